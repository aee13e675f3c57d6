import { describe, expect, it } from 'vitest';
import { parseSimOptions } from '#colo/sim/config.ts';
import { SimConfigError } from '#colo/sim/errors.ts';
import { parseCst } from '#shared/domain/market/cst.ts';

describe('parseSimOptions', () => {
  it('fills the spec defaults', () => {
    // Act
    const o = parseSimOptions({});

    // Assess
    expect(o).toMatchObject({
      port: 7777,
      seed: 42,
      speed: 1,
      clock: 'realtime',
      fillPrice: 'opposite',
      partialFills: false,
      maintenance: 'daily',
      historyFrom: '2024-01-02',
    });
    expect(o.config.broker_id).toBe('ghsim');
    expect(o.config.products.cu).toMatchObject({ margin: 40_000, commission: 20 });
    expect(o.config.products.au).toMatchObject({ margin: 64_000, commission: 10 });
    expect(o.config.products.ag).toMatchObject({ margin: 12_000, commission: 8 });
  });

  it('reads --start and --end as CST text into epoch ns', () => {
    // Act
    const o = parseSimOptions({ clock: 'replay', start: '2025-01-10 09:00:00', end: '2025-01-10 15:00' });

    // Assess
    expect(o.start).toBe(parseCst('2025-01-10 09:00:00'));
    expect(o.end).toBe(parseCst('2025-01-10 15:00:00'));
  });

  it.each([
    [{ clock: 'realtime', speed: 2 }, /speed/],
    [{ clock: 'replay', start: '2025-01-10' }, /needs --start and --end/],
    [{ clock: 'accelerated', start: '2025-01-10 10:00', end: '2025-01-10 09:00' }, /after --start/],
    [{ clock: 'accelerated', start: 'yesterday' }, /start/],
    [{ skipIdle: true }, /skip-idle/],
    [{ port: 70_000 }, /port/],
  ])('refuses %j with a message naming the option', (input, message) => {
    // Act
    const run = () => parseSimOptions(input);

    // Assess
    expect(run).toThrow(SimConfigError);
    expect(run).toThrow(message);
  });
});

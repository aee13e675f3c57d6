import { describe, expect, it } from 'vitest';
import { CliUsageError, parseParamsFor } from '#colo/cli-support.ts';
import { commandParams } from '#colo/commands/gateway-command.ts';
import { findJobKind } from '#shared/domain/control/job-kinds/index.ts';
import { COMMAND_PARAMS } from '#shared/domain/trading/commands.ts';

/** `--param` pairs alone (no --params-json). */
const typedParams = (type: string, pairs: string[]) => commandParams(type, pairs, undefined);

describe('gateway command --param', () => {
  it('keeps text where the field takes text, even when it would parse as JSON', () => {
    const ack = typedParams('ack_reconciliation', ['diff_hash=12345678', 'note=2024']);
    expect(ack).toEqual({ diff_hash: '12345678', note: '2024' });
    expect(COMMAND_PARAMS.ack_reconciliation.safeParse(ack).success).toBe(true);
    expect(typedParams('kill', ['reason=true'])).toEqual({ reason: 'true' });
  });

  it('reads JSON where the field wants it, and text that is not JSON as text', () => {
    const target = typedParams('set_target', ['symbol=SHFE.cu2502', 'target=-3']);
    expect(target).toEqual({ symbol: 'SHFE.cu2502', target: -3 });
    expect(COMMAND_PARAMS.set_target.safeParse(target).success).toBe(true);
    expect(typedParams('flatten', ['symbols=["SHFE.cu2502","SHFE.au2506"]'])).toEqual({
      symbols: ['SHFE.cu2502', 'SHFE.au2506'],
    });
  });

  it('leaves unknown types and fields to the JSON rule (the service names them)', () => {
    expect(typedParams('nope', ['n=2'])).toEqual({ n: 2 });
    expect(typedParams('kill', ['reason=drill', 'extra=7'])).toEqual({ reason: 'drill', extra: 7 });
  });

  it('takes --params-json whole, never both, and refuses what is not an object', () => {
    expect(commandParams('kill', [], '{"reason":"2024"}')).toEqual({ reason: '2024' });
    expect(() => commandParams('kill', ['reason=x'], '{}')).toThrow(CliUsageError);
    expect(() => commandParams('kill', [], '[1]')).toThrow(/must be a JSON object/);
    expect(() => commandParams('kill', [], '{')).toThrow(/not valid JSON/);
    expect(() => commandParams('kill', ['noequals'], undefined)).toThrow(/--param expects key=value/);
  });
});

describe('parseParamsFor (jobs submit --param)', () => {
  it('types each value by the kind’s own field', () => {
    const finalize = findJobKind('data.main_l5.finalize')?.params;
    expect(parseParamsFor(finalize, ['var=cu', 'build_id=123456789012'])).toEqual({
      var: 'cu',
      build_id: '123456789012',
    });
    const sleep = findJobKind('system.sleep')?.params;
    expect(parseParamsFor(sleep, ['seconds=2', 'fail_retryable=false'])).toEqual({
      seconds: 2,
      fail_retryable: false,
    });
    expect(parseParamsFor(undefined, ['seconds=2', 'x=y'])).toEqual({ seconds: 2, x: 'y' });
  });
});

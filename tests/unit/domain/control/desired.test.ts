import { describe, expect, it } from 'vitest';
import {
  checkGatewayDesired,
  checkStrategyDesired,
  type GatewayDesired,
  launchArgs,
  parseDesiredInput,
  type RiskCaps,
  type StrategyDesired,
} from '#shared/domain/control/desired.ts';
import { ControlError } from '#shared/errors/control.ts';

const CAPS: RiskCaps = {
  max_abs_position: 10,
  max_order_size: 10,
  max_ops_per_sec: 20,
  require_daily_loss_for_live: true,
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ControlError) return `${err.status} ${err.code}`;
    throw err;
  }
  return 'no error';
}

describe('desired documents', () => {
  it('fills defaults only for absent fields: an explicit 0 stays 0', () => {
    const g = parseDesiredInput('gateway', { mode: 'sim', limits: { max_abs_position: 0 } }, 'h1') as GatewayDesired;
    expect(g.limits.max_abs_position).toBe(0);
    expect(g.limits.max_order_size).toBe(1);
    expect(g).toMatchObject({ host_id: 'h1', sim_account: 'local', confirm_live: '', symbols: [] });
    const s = parseDesiredInput(
      'strategy',
      { mode: 'run', position_size: 0, symbols: ['SHFE.cu2502'], model_name: 'm' },
      'h',
    );
    expect((s as StrategyDesired).position_size).toBe(0);
  });

  it('refuses an unknown mode or field with 400 validation_failed (never a silent idle)', () => {
    expect(codeOf(() => parseDesiredInput('gateway', { mode: 'turbo' }, 'h'))).toBe('400 validation_failed');
    expect(codeOf(() => parseDesiredInput('strategy', { mode: 'run', bogus: 1 }, 'h'))).toBe('400 validation_failed');
    expect(codeOf(() => parseDesiredInput('gateway', {}, 'h'))).toBe('400 validation_failed');
    expect(codeOf(() => parseDesiredInput('gateway', { mode: 'sim', limits: { max_order_size: 0 } }, 'h'))).toBe(
      '400 validation_failed',
    );
  });

  it('keeps limits within the risk caps', () => {
    const g = parseDesiredInput('gateway', { mode: 'sim', limits: { max_abs_position: 11 } }, 'h') as GatewayDesired;
    expect(codeOf(() => checkGatewayDesired(g, CAPS, 'p'))).toBe('400 validation_failed');
    const ok = parseDesiredInput('gateway', { mode: 'sim', limits: { max_abs_position: 10 } }, 'h') as GatewayDesired;
    expect(codeOf(() => checkGatewayDesired(ok, CAPS, 'p'))).toBe('no error');
  });

  it('live_trade needs confirm_live I_UNDERSTAND and, by default, max_daily_loss', () => {
    const base = { mode: 'live_trade', limits: { max_daily_loss: 5000 } };
    const noConfirm = parseDesiredInput('gateway', base, 'h') as GatewayDesired;
    expect(codeOf(() => checkGatewayDesired(noConfirm, CAPS, 'p'))).toBe('400 confirm_live_required');
    const lower = parseDesiredInput('gateway', { ...base, confirm_live: 'i_understand' }, 'h') as GatewayDesired;
    expect(codeOf(() => checkGatewayDesired(lower, CAPS, 'p'))).toBe('400 confirm_live_required');
    const noLoss = parseDesiredInput(
      'gateway',
      { mode: 'live_trade', confirm_live: 'I_UNDERSTAND' },
      'h',
    ) as GatewayDesired;
    expect(codeOf(() => checkGatewayDesired(noLoss, CAPS, 'p'))).toBe('400 validation_failed');
    expect(codeOf(() => checkGatewayDesired(noLoss, { ...CAPS, require_daily_loss_for_live: false }, 'p'))).toBe(
      'no error',
    );
    const ok = parseDesiredInput('gateway', { ...base, confirm_live: 'I_UNDERSTAND' }, 'h') as GatewayDesired;
    expect(codeOf(() => checkGatewayDesired(ok, CAPS, 'p'))).toBe('no error');
  });

  it('a running strategy needs symbols (no_symbols) and a model', () => {
    const none = parseDesiredInput('strategy', { mode: 'run', model_name: 'm' }, 'h') as StrategyDesired;
    expect(codeOf(() => checkStrategyDesired(none, 'p'))).toBe('400 no_symbols');
    const noModel = parseDesiredInput('strategy', { mode: 'run', symbols: ['SHFE.cu2502'] }, 'h') as StrategyDesired;
    expect(codeOf(() => checkStrategyDesired(noModel, 'p'))).toBe('400 validation_failed');
    const idle = parseDesiredInput('strategy', { mode: 'idle' }, 'h') as StrategyDesired;
    expect(codeOf(() => checkStrategyDesired(idle, 'p'))).toBe('no error');
  });

  it('builds the process command line: the gateway by profile, the strategy with its parameters', () => {
    const g = parseDesiredInput('gateway', { mode: 'sim' }, 'h');
    expect(launchArgs('gateway', 'p', g)).toEqual(['--account', 'p']);
    const s = parseDesiredInput(
      'strategy',
      { mode: 'run', symbols: ['SHFE.cu2502', 'SHFE.au2506'], model_name: 'm1' },
      'h',
    );
    expect(launchArgs('strategy', 'p', s)).toEqual([
      '--account',
      'p',
      '--symbol',
      'SHFE.cu2502',
      '--symbol',
      'SHFE.au2506',
      '--model',
      'm1',
      '--horizon',
      '50',
      '--threshold-up',
      '0.6',
      '--threshold-down',
      '0.6',
      '--position-size',
      '1',
    ]);
  });
});

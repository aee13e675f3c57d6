import { describe, expect, it } from 'vitest';
import {
  buildGatewayCommand,
  COMMAND_STREAM_MAXLEN,
  commandStreamKey,
  commandToWire,
  type GatewayCommandType,
  MAX_ABS_TARGET,
  parseGatewayCommand,
} from '#shared/domain/trading/commands.ts';
import {
  applyKill,
  applyReset,
  isKilled,
  type KillInput,
  parseRiskKillRecord,
  type RiskKillRecord,
  riskKillToWire,
} from '#shared/domain/trading/risk-kill.ts';
import { ValidationFailedError } from '#shared/errors/control.ts';

const ENVELOPE = {
  command_id: '01JABCDEFGHJKMNPQRSTVWXYZ0',
  account_profile: 'main_1',
  issued_at_ns: 1_735_689_600_123_456_789n,
  issued_by: 'alice',
  source: 'api' as const,
};

function build(type: GatewayCommandType, params: unknown) {
  return buildGatewayCommand({ ...ENVELOPE, type, params });
}

/** The message of the `ValidationFailedError` `fn` throws (fails the test on another error or none). */
function validationMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationFailedError) return err.message;
    throw err;
  }
  throw new Error('expected a ValidationFailedError, nothing was thrown');
}

describe('gateway command params per type', () => {
  it.each([
    ['cancel_all', {}],
    ['flatten', {}],
    ['flatten', { symbols: ['SHFE.cu2502', 'SHFE.au2506'] }],
    ['set_target', { symbol: 'SHFE.ag2412', target: -MAX_ABS_TARGET }],
    ['clear_target', {}],
    ['clear_target', { symbol: 'SHFE.cu2502' }],
    ['disarm_live', {}],
    ['kill', { reason: 'manual stop' }],
    ['reset_risk_kill', { note: 'checked positions' }],
    ['ack_reconciliation', { diff_hash: 'deadbeef01', note: 'broker confirmed' }],
  ] as const)('accepts %s %j', (type, params) => {
    // Act
    const c = build(type, params);

    // Assess
    expect(c).toMatchObject({ ...ENVELOPE, type, params });
  });

  it('defaults absent params to {} for a type without required fields', () => {
    // Act
    const c = buildGatewayCommand({ ...ENVELOPE, type: 'cancel_all', params: undefined });

    // Assess
    expect(c.params).toEqual({});
  });

  it('rejects an unknown field naming it, both when building and when parsing the wire form', () => {
    // Act
    const built = validationMessage(() => build('kill', { reason: 'x', bogus: 1 }));
    const parsed = validationMessage(() =>
      parseGatewayCommand({ ...commandToWire(build('cancel_all', {})), params: { symbols: [] } }),
    );

    // Assess
    expect(built).toMatch(/kill command at params/);
    expect(built).toMatch(/"bogus"/);
    expect(parsed).toMatch(/at params/);
    expect(parsed).toMatch(/"symbols"/);
  });

  it.each([
    ['missing', {}],
    ['blank', { reason: '   ' }],
    ['too long', { reason: 'x'.repeat(501) }],
  ])('rejects kill with a %s reason at params.reason', (_what, params) => {
    // Act
    const built = validationMessage(() => build('kill', params));
    const parsed = validationMessage(() =>
      parseGatewayCommand({ ...commandToWire(build('kill', { reason: 'ok' })), params }),
    );

    // Assess
    expect(built).toMatch(/kill command at params\.reason/);
    expect(parsed).toMatch(/at params\.reason/);
  });

  it.each([
    ['non-integer', 1.5],
    ['above the bound', MAX_ABS_TARGET + 1],
    ['below the bound', -MAX_ABS_TARGET - 1],
    ['a string', '3'],
  ])('rejects set_target with a %s target at params.target', (_what, target) => {
    // Act
    const msg = validationMessage(() => build('set_target', { symbol: 'SHFE.cu2502', target }));

    // Assess
    expect(msg).toMatch(/set_target command at params\.target/);
  });

  it.each(['SHFE.cu2513', 'SHFE.cu2500', 'cu2502', 'SHFE.zn2502', 'KQ.m@SHFE.cu', 'DCE.cu2502'])(
    'rejects the execution symbol %j with the expected shape in the message',
    (symbol) => {
      // Act
      const target = validationMessage(() => build('set_target', { symbol, target: 1 }));
      const clear = validationMessage(() => build('clear_target', { symbol }));
      const flatten = validationMessage(() => build('flatten', { symbols: ['SHFE.cu2502', symbol] }));

      // Assess
      expect(target).toMatch(/at params\.symbol: expected an execution symbol SHFE\./);
      expect(clear).toMatch(/at params\.symbol/);
      expect(flatten).toMatch(/at params\.symbols\.1/);
    },
  );

  it('rejects flatten with a repeated or empty symbol list', () => {
    // Act
    const repeated = validationMessage(() => build('flatten', { symbols: ['SHFE.cu2502', 'SHFE.cu2502'] }));
    const empty = validationMessage(() => build('flatten', { symbols: [] }));

    // Assess
    expect(repeated).toMatch(/at params\.symbols: symbols must not repeat/);
    expect(empty).toMatch(/at params\.symbols/);
  });

  it('rejects an ack_reconciliation diff_hash that is not hex', () => {
    // Act
    const msg = validationMessage(() => build('ack_reconciliation', { diff_hash: 'XYZ12345', note: 'n' }));

    // Assess
    expect(msg).toMatch(/at params\.diff_hash/);
  });
});

describe('gateway command envelope', () => {
  it('round-trips through the wire form with issued_at_ns beyond 2^53 exact', () => {
    // Prepare
    const big = 2n ** 53n * 1000n + 7n;
    const c = buildGatewayCommand({
      ...ENVELOPE,
      issued_at_ns: big,
      type: 'set_target',
      params: { symbol: 'SHFE.cu2502', target: 3 },
    });

    // Act
    const wire = commandToWire(c);
    const json = JSON.parse(JSON.stringify(wire));
    const back = parseGatewayCommand(json);

    // Assess
    expect(wire.issued_at_ns).toBe('9007199254740992007');
    expect(back).toEqual(c);
    expect(back.issued_at_ns).toBe(big);
  });

  it.each([
    ['command_id', { command_id: undefined }, /at command_id/],
    ['a lowercase command_id', { command_id: '01jabcdefghjkmnpqrstvwxyz0' }, /at command_id: expected a ULID/],
    ['issued_at_ns as a number', { issued_at_ns: 5 }, /at issued_at_ns/],
    ['issued_at_ns negative', { issued_at_ns: '-5' }, /at issued_at_ns/],
    ['an unknown type', { type: 'explode' }, /at type/],
    ['an unknown source', { source: 'web' }, /at source/],
    ['a non-canonical profile', { account_profile: 'Main' }, /at account_profile/],
    ['an extra envelope field', { secret: 'x' }, /"secret"/],
  ])('rejects a wire envelope with %s', (_what, patch, message) => {
    // Prepare
    const wire = { ...commandToWire(build('cancel_all', {})), ...patch };

    // Act
    const msg = validationMessage(() => parseGatewayCommand(wire, 'stored command'));

    // Assess
    expect(msg).toMatch(/^invalid stored command/);
    expect(msg).toMatch(message);
  });

  it('names the per-profile stream key and its cap', () => {
    expect(commandStreamKey('main_1')).toBe('commands:main_1');
    expect(COMMAND_STREAM_MAXLEN).toBe(10_000);
  });
});

describe('risk kill transitions', () => {
  const kill: KillInput = {
    trigger: 'max_daily_loss',
    reason: 'daily loss 5200 > 5000',
    details: { pnl: -5200, limit: 5000 },
    at_ns: 1_735_689_600_000_000_001n,
    by: 'gateway',
    fence: 7,
  };
  const reset = { at_ns: 1_735_689_700_000_000_000n, by: 'alice', note: 'reviewed', fence: 7 };

  it('kills an ACTIVE profile with no record at revision 1', () => {
    // Act
    const next = applyKill('main_1', null, kill);

    // Assess
    expect(next).toEqual({
      account_profile: 'main_1',
      state: 'KILLED',
      revision: 1,
      trigger: 'max_daily_loss',
      reason: 'daily loss 5200 > 5000',
      details: { pnl: -5200, limit: 5000 },
      killed_at_ns: kill.at_ns,
      killed_by: 'gateway',
      reset_at_ns: null,
      reset_by: null,
      reset_note: null,
      fence: 7,
    });
    expect(isKilled(next)).toBe(true);
    expect(isKilled(null)).toBe(false);
  });

  it('treats a kill while KILLED as a no-op', () => {
    // Prepare
    const killed = applyKill('main_1', null, kill);

    // Act
    const again = applyKill('main_1', killed, { ...kill, trigger: 'operator', reason: 'again' });

    // Assess
    expect(again).toBeNull();
  });

  it('resets KILLED(r) to ACTIVE(r+1), keeping what was killed', () => {
    // Prepare
    const killed = applyKill('main_1', null, kill) as RiskKillRecord;

    // Act
    const { was_killed, next } = applyReset('main_1', killed, reset);

    // Assess
    expect(was_killed).toBe(true);
    expect(next).toEqual({
      ...killed,
      state: 'ACTIVE',
      revision: 2,
      reset_at_ns: reset.at_ns,
      reset_by: 'alice',
      reset_note: 'reviewed',
    });
  });

  it('changes nothing when resetting an ACTIVE profile (with or without a record)', () => {
    // Prepare
    const killed = applyKill('main_1', null, kill) as RiskKillRecord;
    const active = applyReset('main_1', killed, reset).next as RiskKillRecord;

    // Act
    const none = applyReset('main_1', null, reset);
    const again = applyReset('main_1', active, reset);

    // Assess
    expect(none).toEqual({ was_killed: false, next: null });
    expect(again).toEqual({ was_killed: false, next: null });
  });

  it('a second kill after a reset goes to r+1 and keeps the previous reset for the record', () => {
    // Prepare
    const k1 = applyKill('main_1', null, kill) as RiskKillRecord;
    const r1 = applyReset('main_1', k1, reset).next as RiskKillRecord;

    // Act
    const k2 = applyKill('main_1', r1, { ...kill, trigger: 'operator', reason: 'manual', details: undefined });

    // Assess
    expect(k2).toMatchObject({
      state: 'KILLED',
      revision: 3,
      trigger: 'operator',
      details: {},
      reset_at_ns: reset.at_ns,
      reset_by: 'alice',
    });
  });

  it('refuses a reset without an operator name', () => {
    // Prepare
    const killed = applyKill('main_1', null, kill);

    // Act
    const act = () => applyReset('main_1', killed, { ...reset, by: '  ' });

    // Assess
    expect(act).toThrow(/non-empty issued_by/);
  });

  it('round-trips the record through its stored form with instants beyond 2^53', () => {
    // Prepare
    const killed = applyKill('main_1', null, kill) as RiskKillRecord;

    // Act
    const wire = riskKillToWire(killed);
    const back = parseRiskKillRecord(JSON.parse(JSON.stringify(wire)));

    // Assess
    expect(wire.killed_at_ns).toBe('1735689600000000001');
    expect(wire.reset_at_ns).toBeNull();
    expect(back).toEqual(killed);
  });

  it('rejects a stored record with a bad revision or state', () => {
    // Prepare
    const wire = riskKillToWire(applyKill('main_1', null, kill) as RiskKillRecord);

    // Act
    const rev0 = validationMessage(() => parseRiskKillRecord({ ...wire, revision: 0 }));
    const state = validationMessage(() => parseRiskKillRecord({ ...wire, state: 'PAUSED' }));

    // Assess
    expect(rev0).toMatch(/at revision/);
    expect(state).toMatch(/at state/);
  });
});

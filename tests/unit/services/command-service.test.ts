/**
 * CommandService decisions (control-chain §6.1): the order of the sinks (DynamoDB, then the Redis stream, then the
 * audit entry), `durable_only` when the stream is skipped or fails, nothing after a failed durable write, the role
 * check, and the risk-kill mapping. In-memory ports here; the DynamoDB and Redis adapters and the HTTP routes are
 * covered for real in `tests/integration/trading/` and `tests/integration/web/api-commands.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import type { Role } from '#shared/domain/control/roles.ts';
import type { CommandStore, GatewayCommand } from '#shared/domain/trading/commands.ts';
import { parseGatewayCommand } from '#shared/domain/trading/commands.ts';
import { applyKill, type RiskKillRecord } from '#shared/domain/trading/risk-kill.ts';
import { ValidationFailedError } from '#shared/errors/control.ts';
import type { WarmPathStatus } from '#shared/infra/redis/warm-path.ts';
import { silentLogger } from '#shared/log.ts';
import type { Caller } from '#shared/services/auth-service.ts';
import { CommandService, type CommandServiceDeps } from '#shared/services/command-service.ts';
import { ManualClock, RecordingAudit } from './support/in-memory-ports.ts';

const T0 = Date.UTC(2026, 10, 20, 1, 2, 3, 456);
const OK: WarmPathStatus = { degraded: false, reason: null, error: '', last_ok_at: null, checked_at: '' };

class MemoryCommands implements CommandStore {
  readonly items = new Map<string, GatewayCommand>();
  failPut: Error | null = null;
  async put(c: GatewayCommand): Promise<boolean> {
    if (this.failPut) throw this.failPut;
    const k = `${c.account_profile}/${c.command_id}`;
    if (this.items.has(k)) return false;
    this.items.set(k, c);
    return true;
  }
  async get(p: string, id: string): Promise<GatewayCommand | null> {
    return this.items.get(`${p}/${id}`) ?? null;
  }
  async after(p: string, cursor: string | null, limit: number): Promise<GatewayCommand[]> {
    return [...this.items.values()]
      .filter((c) => c.account_profile === p && (cursor === null || c.command_id > cursor))
      .sort((a, b) => a.command_id.localeCompare(b.command_id))
      .slice(0, limit);
  }
  async recent(p: string, limit: number): Promise<GatewayCommand[]> {
    return (await this.after(p, null, 10_000)).reverse().slice(0, limit);
  }
}

function caller(role: Role): Caller {
  return {
    actor: { type: 'user', id: 'U1', name: 'ann' },
    role,
    userId: 'U1',
    tokenExpiresAt: null,
    meta: { requestId: 'req-00000001', ip: '10.0.0.1', userAgent: 'test' },
  };
}

function setup(o: { warm?: WarmPathStatus; xaddError?: Error; riskKill?: RiskKillRecord | Error | null } = {}) {
  const commands = new MemoryCommands();
  const audit = new RecordingAudit();
  const streamed: { stream: string; fields: Record<string, string>; maxLen: number }[] = [];
  const calls: string[] = [];
  let n = 0;
  const deps: CommandServiceDeps = {
    commands: {
      put: async (c) => {
        calls.push('put');
        return commands.put(c);
      },
      get: (p, id) => commands.get(p, id),
      after: (p, c, l) => commands.after(p, c, l),
      recent: (p, l) => commands.recent(p, l),
    },
    riskKill: {
      get: async () => {
        const r = o.riskKill ?? null;
        if (r instanceof Error) throw r;
        return r;
      },
    },
    audit: {
      append: async (e) => {
        calls.push('audit');
        return audit.append(e);
      },
      listDay: async () => [],
    },
    warm: {
      status: () => o.warm ?? OK,
      xadd: async (stream, fields, maxLen) => {
        calls.push('xadd');
        if (o.xaddError) throw o.xaddError;
        streamed.push({ stream, fields, maxLen });
        return '1-0';
      },
    },
    clock: new ManualClock(T0),
    // ULIDs that sort in issue order.
    ids: { next: () => `01J0000000000000000000000${n++}`.slice(-26).padStart(26, '0') },
    log: silentLogger(),
  };
  return { svc: new CommandService(deps), commands, audit, streamed, calls };
}

describe('CommandService.issue', () => {
  it('writes DynamoDB, then the stream, then the audit entry, with one envelope on both sinks', async () => {
    // Prepare
    const { svc, commands, audit, streamed, calls } = setup();

    // Act
    const r = await svc.issue(caller('operator'), {
      account_profile: 'Main Desk',
      type: 'flatten',
      params: { symbols: ['SHFE.cu2502'] },
    });

    // Assess
    expect(calls).toEqual(['put', 'xadd', 'audit']);
    expect(r).toMatchObject({ account_profile: 'main_desk', type: 'flatten', delivery: 'durable_and_stream' });
    expect(r.issued_at).toBe('2026-11-20T01:02:03.456Z');
    const stored = await commands.get('main_desk', r.command_id);
    expect(stored).toMatchObject({ issued_by: 'ann', source: 'api', params: { symbols: ['SHFE.cu2502'] } });
    expect(stored?.issued_at_ns).toBe(BigInt(T0) * 1_000_000n);
    expect(streamed).toHaveLength(1);
    expect(streamed[0]?.stream).toBe('commands:main_desk');
    expect(streamed[0]?.maxLen).toBe(10_000);
    expect(parseGatewayCommand(JSON.parse(streamed[0]?.fields.command ?? '{}'))).toEqual(stored);
    expect(audit.entries[0]).toMatchObject({
      action: 'gateway.command',
      target: 'gateway:main_desk',
      outcome: 'ok',
      before: null,
      after: { command_id: r.command_id, type: 'flatten', delivery: 'durable_and_stream' },
    });
  });

  it('refuses a viewer before anything is written', async () => {
    // Prepare
    const { svc, calls } = setup();

    // Act + Assess
    await expect(svc.issue(caller('viewer'), { account_profile: 'p', type: 'cancel_all' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(calls).toEqual([]);
  });

  it('rejects bad params naming the field and writes nothing', async () => {
    // Prepare
    const { svc, calls } = setup();

    // Act
    const err = await svc
      .issue(caller('operator'), { account_profile: 'p', type: 'set_target', params: { symbol: 'SHFE.cu2502' } })
      .catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(ValidationFailedError);
    expect((err as Error).message).toContain('target');
    expect(calls).toEqual([]);
  });

  it('skips the stream while the warm path is degraded: durable_only, audited as such', async () => {
    // Prepare
    const { svc, audit, calls } = setup({
      warm: { ...OK, degraded: true, reason: 'redis_unavailable', error: 'connection refused' },
    });

    // Act
    const r = await svc.issue(caller('operator'), { account_profile: 'p', type: 'cancel_all' });

    // Assess
    expect(calls).toEqual(['put', 'audit']);
    expect(r.delivery).toBe('durable_only');
    expect(r.delivery_note).toContain('redis_unavailable');
    expect(audit.entries[0]?.after).toMatchObject({ delivery: 'durable_only' });
  });

  it('answers durable_only when the stream write fails after the durable write committed', async () => {
    // Prepare
    const { svc, commands } = setup({ xaddError: new Error('Command timed out') });

    // Act
    const r = await svc.issue(caller('operator'), { account_profile: 'p', type: 'cancel_all' });

    // Assess
    expect(r.delivery).toBe('durable_only');
    expect(r.delivery_note).toContain('Command timed out');
    expect(await commands.get('p', r.command_id)).not.toBeNull();
  });

  it('fails without streaming or auditing when the durable write fails', async () => {
    // Prepare
    const { svc, commands, calls } = setup();
    commands.failPut = new Error('ResourceNotFoundException');

    // Act + Assess
    await expect(svc.issue(caller('operator'), { account_profile: 'p', type: 'cancel_all' })).rejects.toThrow(
      'ResourceNotFoundException',
    );
    expect(calls).toEqual(['put']);
  });
});

describe('CommandService.riskKill', () => {
  const killed = applyKill('p', null, { trigger: 'operator', reason: 'drill', at_ns: 1n, by: 'bob', fence: 3 });

  it('maps reset to reset_risk_kill{note} with the durable state as the audit before', async () => {
    // Prepare
    const { svc, commands, audit } = setup({ riskKill: killed });

    // Act
    const r = await svc.riskKill(caller('operator'), { account_profile: 'p', action: 'reset', reason: 'checked' });

    // Assess
    expect(r.type).toBe('reset_risk_kill');
    expect((await commands.get('p', r.command_id))?.params).toEqual({ note: 'checked' });
    expect(audit.entries[0]).toMatchObject({
      reason: 'checked',
      before: { state: 'KILLED', revision: 1, trigger: 'operator', reason: 'drill' },
    });
  });

  it('still sends a kill when the risk-kill record cannot be read', async () => {
    // Prepare
    const { svc, commands, audit } = setup({ riskKill: new Error('throttled') });

    // Act
    const r = await svc.riskKill(caller('operator'), { account_profile: 'p', action: 'kill', reason: 'runaway' });

    // Assess
    expect((await commands.get('p', r.command_id))?.params).toEqual({ reason: 'runaway' });
    expect(audit.entries[0]?.before).toEqual({ state: 'unknown', error: 'throttled' });
  });

  it('requires a reason', async () => {
    const { svc } = setup();
    await expect(svc.riskKill(caller('operator'), { account_profile: 'p', action: 'kill' })).rejects.toBeInstanceOf(
      ValidationFailedError,
    );
  });

  it('reports the durable state, and ACTIVE at revision 0 without a record', async () => {
    // Prepare
    const none = setup();
    const some = setup({ riskKill: killed });

    // Act
    const a = await none.svc.riskKillStatus('p');
    const b = await some.svc.riskKillStatus('p');

    // Assess
    expect(a).toMatchObject({ risk_kill_active: false, state: 'ACTIVE', revision: 0, trigger: null });
    expect(b).toMatchObject({ risk_kill_active: true, state: 'KILLED', trigger: 'operator', killed_by: 'bob' });
    expect(b.killed_at).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('CommandService.history', () => {
  it('lists newest first, clamps the limit and says no results source is wired', async () => {
    // Prepare
    const { svc } = setup();
    const a = await svc.issue(caller('operator'), { account_profile: 'p', type: 'cancel_all' });
    const b = await svc.issue(caller('operator'), { account_profile: 'p', type: 'disarm_live' });
    await svc.issue(caller('operator'), { account_profile: 'other', type: 'disarm_live' });

    // Act
    const h = await svc.history({ account_profile: 'p', limit: '999999' });

    // Assess
    expect(h.items.map((i) => i.command_id)).toEqual([b.command_id, a.command_id]);
    expect(h.limit).toBe(200);
    expect(h.results_source).toBe('none');
    expect(h.items[0]?.result).toBeNull();
    expect(h.state).toBe('ok');
    await expect(svc.history({ limit: 'abc' })).rejects.toBeInstanceOf(ValidationFailedError);
  });
});

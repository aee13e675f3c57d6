/**
 * Operator commands to a gateway from the console, the API and the CLI (control-chain §3.2, §6.1; trading-chain §8):
 * `POST /api/gateway/command`, `POST /api/trading/risk-kill`, `GET /api/gateway/commands`, `ghtrader gateway command`
 * and `ghtrader risk-kill`. One envelope (`GatewayCommandSchema`) goes to the sinks in this order:
 *
 * 1. the DynamoDB commands table (conditional put on the new `command_id`): the durable sink and the commit point. A
 *    failure here fails the request (503 `dependency_unavailable` for an outage) and nothing else happens;
 * 2. `XADD <prefix>commands:<p> MAXLEN ~ 10000` (field `command`): the fast sink. Skipped at once while the warm path
 *    is degraded, and a failure is logged, never an error: the answer then says `delivery: "durable_only"` and the
 *    gateway's 1 s DynamoDB poll delivers it (a kill never depends on Redis);
 * 3. the audit entry (target `gateway:<p>`, after = the envelope and the delivery): `risk_kill.activate` for `kill`,
 *    `risk_kill.reset` for `reset_risk_kill` (both with before = the durable risk-kill state as read just before),
 *    `gateway.command` for the others (`commandAuditAction`, control-chain §9).
 *
 * The audit entry follows the committed write, as every other audit entry does (control-chain §9), rather than
 * preceding it as §6.1's sentence orders it: an entry written first would record commands whose write then failed.
 *
 * Only the gateway executes commands and writes the risk-kill record; this service never touches either beyond the
 * read above. Command results come from the gateway's state (`commands.recent`): until a results source is wired
 * (the trading chain's gateway state), history items carry `result: null` and the answer says why.
 */
import type { AuditLog } from '../domain/control/audit.ts';
import { cursorStringField, encodeCursor } from '../domain/control/cursor.ts';
import { ProfileSchema } from '../domain/control/desired.ts';
import { parseOrThrow } from '../domain/control/validation.ts';
import type { IdGen } from '../domain/ids.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import {
  buildGatewayCommand,
  COMMAND_STREAM_MAXLEN,
  type CommandDelivery,
  CommandHistoryQuerySchema,
  CommandRequestSchema,
  type CommandSource,
  type CommandStore,
  commandAuditAction,
  commandStreamKey,
  commandToWire,
  type GatewayCommand,
  type GatewayCommandType,
  RiskKillRequestSchema,
} from '../domain/trading/commands.ts';
import { type RiskKillRecord, type RiskKillStore, riskKillToWire } from '../domain/trading/risk-kill.ts';
import { describeError } from '../errors/base.ts';
import type { WarmPath } from '../infra/redis/warm-path.ts';
import type { Logger } from '../log.ts';
import { appendAudit, auditWho } from './audit-append.ts';
import { type Caller, requireCallerRole } from './auth-service.ts';

/** One result as the gateway reports it in its state (`commands.recent[≤20]`). */
export interface CommandResult {
  command_id: string;
  type: string;
  status: string;
  reason?: string;
}

/** Where command results come from: the gateway's state for a profile (null when it has none). */
export type CommandResultsSource = (profile: string) => Promise<CommandResult[] | null>;

export interface CommandServiceDeps {
  commands: CommandStore;
  riskKill: Pick<RiskKillStore, 'get'>;
  audit: AuditLog;
  warm: Pick<WarmPath, 'xadd' | 'status'>;
  clock: Clock;
  ids: IdGen;
  log: Logger;
  /** The gateway's reported results; absent until the trading chain's gateway writes state. */
  results?: CommandResultsSource;
  /** Signs the history's cursors (control-chain §3.1); absent -> a `cursor` is 503 `dependency_unavailable`. */
  cursorSecret?: string;
}

export interface CommandIssued {
  command_id: string;
  account_profile: string;
  type: GatewayCommandType;
  issued_at: string;
  delivery: CommandDelivery;
  /** Why the fast sink was not used (`""` when it was). */
  delivery_note: string;
}

export interface CommandHistoryItem {
  command_id: string;
  type: GatewayCommandType;
  params: Record<string, unknown>;
  issued_at: string;
  issued_at_ns: string;
  issued_by: string;
  source: CommandSource;
  /** The gateway's result for this id, or null when it reported none (yet). */
  result: { status: string; reason: string | null } | null;
}

export interface CommandHistory {
  account_profile: string;
  items: CommandHistoryItem[];
  /** The next (older) page, or null when this one holds the oldest command. */
  next_cursor: string | null;
  limit: number;
  results_source: 'gateway_state' | 'none';
  /** Status payload contract (control-chain §1). */
  state: 'ok' | 'empty';
  text: string;
  error: string;
  updated_at: string;
  stale: boolean;
}

/** `GET /api/trading/risk-kill` and `ghtrader risk-kill status`: the durable record, or ACTIVE when there is none. */
export interface RiskKillStatus {
  account_profile: string;
  risk_kill_active: boolean;
  state: 'ACTIVE' | 'KILLED';
  revision: number;
  trigger: string | null;
  reason: string;
  killed_at: string | null;
  killed_by: string | null;
  reset_at: string | null;
  reset_by: string | null;
  reset_note: string | null;
  source: 'dynamodb';
  text: string;
  generated_at: string;
}

const NO_RESULTS_NOTE =
  'no command results are read here: the gateway reports them in its state (commands.recent), which arrives with ' +
  'the trading chain';

function nsToIso(ns: bigint | null): string | null {
  return ns === null ? null : isoUtc(Number(ns / 1_000_000n));
}

export class CommandService {
  constructor(private readonly deps: CommandServiceDeps) {}

  /** `POST /api/gateway/command` / `ghtrader gateway command`. */
  async issue(caller: Caller, input: unknown, source: CommandSource = 'api'): Promise<CommandIssued> {
    requireCallerRole(caller, 'operator');
    const req = parseOrThrow(CommandRequestSchema, input, 'gateway command request');
    return this.send(caller, req.account_profile, req.type, req.params, source);
  }

  /** `POST /api/trading/risk-kill` / `ghtrader risk-kill activate|reset`: a `kill` or `reset_risk_kill` command. */
  async riskKill(caller: Caller, input: unknown, source: CommandSource = 'api'): Promise<CommandIssued> {
    requireCallerRole(caller, 'operator');
    const req = parseOrThrow(RiskKillRequestSchema, input, 'risk-kill request');
    return req.action === 'kill'
      ? this.send(caller, req.account_profile, 'kill', { reason: req.reason }, source)
      : this.send(caller, req.account_profile, 'reset_risk_kill', { note: req.reason }, source);
  }

  /** `GET /api/gateway/commands`: this profile's newest commands (the commands table) with the gateway's results. */
  async history(query: unknown): Promise<CommandHistory> {
    const q = parseOrThrow(CommandHistoryQuerySchema, query, 'command history query');
    const limit = q.limit;
    const profile = q.account_profile;
    const filters = { list: 'commands', account_profile: profile };
    const secret = this.deps.cursorSecret;
    const before = cursorStringField(secret, q.cursor, filters, 'command_id');
    // One more than the page: whether an older page exists is then known without another read.
    const [fetched, results] = await Promise.all([
      this.deps.commands.recent(profile, limit + 1, before),
      this.deps.results ? this.deps.results(profile) : Promise.resolve(null),
    ]);
    const cmds = fetched.slice(0, limit);
    const last = cmds[cmds.length - 1];
    const nextCursor =
      fetched.length > limit && last && secret ? encodeCursor(secret, { command_id: last.command_id }, filters) : null;
    const byId = new Map((results ?? []).map((r) => [r.command_id, r]));
    const items = cmds.map((c): CommandHistoryItem => {
      const r = byId.get(c.command_id);
      return {
        command_id: c.command_id,
        type: c.type,
        params: c.params,
        issued_at: nsToIso(c.issued_at_ns) ?? '',
        issued_at_ns: c.issued_at_ns.toString(),
        issued_by: c.issued_by,
        source: c.source,
        result: r ? { status: r.status, reason: r.reason ?? null } : null,
      };
    });
    const resultsSource = results === null ? 'none' : 'gateway_state';
    const now = isoUtc(this.deps.clock.nowMs());
    return {
      account_profile: profile,
      items,
      next_cursor: nextCursor,
      limit,
      results_source: resultsSource,
      state: items.length === 0 ? 'empty' : 'ok',
      text:
        items.length === 0
          ? `no commands for ${profile}`
          : `${items.length} newest commands for ${profile}${resultsSource === 'none' ? `; ${NO_RESULTS_NOTE}` : ''}`,
      error: '',
      updated_at: now,
      stale: false,
    };
  }

  /** The durable risk-kill state of a profile (viewer); the profile is canonicalised here as at every door. */
  async riskKillStatus(rawProfile: string): Promise<RiskKillStatus> {
    const profile = parseOrThrow(ProfileSchema, rawProfile, 'account profile');
    const rec = await this.deps.riskKill.get(profile);
    const killed = rec?.state === 'KILLED';
    return {
      account_profile: profile,
      risk_kill_active: killed,
      state: rec?.state ?? 'ACTIVE',
      revision: rec?.revision ?? 0,
      trigger: rec?.trigger ?? null,
      reason: rec?.reason ?? '',
      killed_at: nsToIso(rec?.killed_at_ns ?? null),
      killed_by: rec?.killed_by ?? null,
      reset_at: nsToIso(rec?.reset_at_ns ?? null),
      reset_by: rec?.reset_by ?? null,
      reset_note: rec?.reset_note ?? null,
      source: 'dynamodb',
      text: !rec
        ? `no risk kill recorded for ${profile}`
        : killed
          ? `risk kill active since ${nsToIso(rec.killed_at_ns)} (${rec.trigger}: ${rec.reason})`
          : `risk kill not active (last reset by ${rec.reset_by ?? 'nobody'})`,
      generated_at: isoUtc(this.deps.clock.nowMs()),
    };
  }

  private async send(
    caller: Caller,
    profile: string,
    type: GatewayCommandType,
    params: unknown,
    source: CommandSource,
  ): Promise<CommandIssued> {
    const { deps } = this;
    const issuedMs = deps.clock.nowMs();
    const cmd = buildGatewayCommand({
      command_id: deps.ids.next(),
      type,
      account_profile: profile,
      params,
      issued_at_ns: BigInt(issuedMs) * 1_000_000n,
      issued_by: caller.actor.name,
      source,
    });
    // The audit's `before`, read beside the durable write (never in front of a kill).
    const beforeRead = type === 'kill' || type === 'reset_risk_kill' ? this.riskKillBefore(profile) : null;
    if (!(await deps.commands.put(cmd))) {
      // A fresh ULID that already exists means the id source repeated itself: never deliver a second command.
      throw new Error(`command ${cmd.command_id} already exists for ${profile}; the id source repeated an id`);
    }
    const { delivery, note } = await this.stream(cmd);
    const before = beforeRead ? await beforeRead : null;
    await appendAudit(deps.audit, deps.log, {
      ...auditWho(caller),
      action: commandAuditAction(type),
      target: `gateway:${profile}`,
      outcome: 'ok',
      reason: reasonOf(cmd),
      before,
      after: { command_id: cmd.command_id, type, params: cmd.params, source, delivery },
    });
    deps.log.info({ command_id: cmd.command_id, type, account_profile: profile, delivery }, 'gateway.command_issued');
    return {
      command_id: cmd.command_id,
      account_profile: profile,
      type,
      issued_at: isoUtc(issuedMs),
      delivery,
      delivery_note: note,
    };
  }

  /** The fast sink; never throws (the durable write already committed the command). */
  private async stream(cmd: GatewayCommand): Promise<{ delivery: CommandDelivery; note: string }> {
    const warm = this.deps.warm.status();
    if (warm.degraded) {
      return { delivery: 'durable_only', note: `warm path degraded (${warm.reason}): the gateway polls DynamoDB` };
    }
    try {
      await this.deps.warm.xadd(
        commandStreamKey(cmd.account_profile),
        { command: JSON.stringify(commandToWire(cmd)) },
        COMMAND_STREAM_MAXLEN,
      );
      return { delivery: 'durable_and_stream', note: '' };
    } catch (err) {
      this.deps.log.warn(
        { command_id: cmd.command_id, account_profile: cmd.account_profile, err: describeError(err) },
        'gateway.command_stream_failed',
      );
      return {
        delivery: 'durable_only',
        note: `Redis stream write failed (${err instanceof Error ? err.message : String(err)}): the gateway polls DynamoDB`,
      };
    }
  }

  /** The audit's `before` for kill/reset: the durable state, or the read's failure (which never blocks a kill). */
  private async riskKillBefore(profile: string): Promise<Record<string, unknown>> {
    try {
      const rec: RiskKillRecord | null = await this.deps.riskKill.get(profile);
      if (!rec) return { state: 'ACTIVE', revision: 0 };
      const w = riskKillToWire(rec);
      return { state: w.state, revision: w.revision, trigger: w.trigger, reason: w.reason };
    } catch (err) {
      this.deps.log.warn({ account_profile: profile, err: describeError(err) }, 'risk_kill.read_failed');
      return { state: 'unknown', error: err instanceof Error ? err.message : String(err) };
    }
  }
}

function reasonOf(cmd: GatewayCommand): string | null {
  const p = cmd.params as { reason?: unknown; note?: unknown };
  if (typeof p.reason === 'string') return p.reason;
  if (typeof p.note === 'string') return p.note;
  return null;
}

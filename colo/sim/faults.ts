/**
 * Fault injection (market-protocol §2.8). Durations (`for_s`) run on the wall clock: faults are an operator's tool
 * and must behave the same whatever the sim clock's speed. The daily 19:00–19:30 CST maintenance window is a sim
 * clock timer and lives in the market driver, not here.
 */
import * as z from 'zod';
import type { SocketKind } from './connection.ts';

const SocketSel = z.enum(['md', 'trade', 'all']);
const forS = z.number().positive().max(86_400);

export const FaultSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('drop'),
    socket: SocketSel.default('all'),
    mode: z.enum(['close', 'abrupt']).default('close'),
  }),
  z.object({
    kind: z.literal('delay'),
    socket: SocketSel.default('all'),
    ms: z.number().int().min(0).max(600_000),
    for_s: forS,
  }),
  z.object({ kind: z.literal('maintenance'), for_s: forS }),
  z.object({
    kind: z.literal('bad_values'),
    symbol: z.string().min(1),
    fields: z.array(z.string().min(1)).min(1),
    value: z.union([z.literal('-'), z.null(), z.literal('NaN'), z.literal('NaN-token')]),
    count: z.number().int().min(1).max(100_000).default(1),
  }),
  z.object({ kind: z.literal('quote_stall'), symbol: z.string().min(1).default('*'), for_s: forS }),
  z.object({ kind: z.literal('limit_lock'), symbol: z.string().min(1), side: z.enum(['up', 'down']), for_s: forS }),
  z.object({ kind: z.literal('odd_ns'), on: z.boolean() }),
  z.object({
    kind: z.literal('notify'),
    socket: SocketSel.default('all'),
    level: z.enum(['INFO', 'WARNING', 'ERROR']).default('INFO'),
    code: z.number().int().default(0),
    content: z.string().default(''),
    type: z.enum(['MESSAGE', 'TEXT', 'HTML']).default('MESSAGE'),
  }),
]);
export type Fault = z.infer<typeof FaultSchema>;

export type BadValue = '-' | null | 'NaN' | 'NaN-token';

interface Timed<T> {
  fault: T;
  untilMs: number;
}

/** Deterministic 1–255 ns offset of the `odd_ns` fault, keyed by a tick id or an order sequence. */
export function oddNsOffset(key: number): bigint {
  return BigInt(1 + ((Math.imul(key | 0, 2_654_435_761) >>> 0) % 255));
}

/** The value a bad-values fault writes: `"NaN-token"` is the number NaN serialised as a bare token. */
export function badValueOf(v: BadValue): string | null | number {
  return v === 'NaN-token' ? Number.NaN : v;
}

export class Faults {
  private delays: Timed<Extract<Fault, { kind: 'delay' }>>[] = [];
  private stalls: Timed<Extract<Fault, { kind: 'quote_stall' }>>[] = [];
  private locks: Timed<Extract<Fault, { kind: 'limit_lock' }>>[] = [];
  private bad: Extract<Fault, { kind: 'bad_values' }>[] = [];
  private maintenanceUntilMs = 0;
  oddNs = false;
  /** `--delay-ms` from the command line: a delay on every socket with no end. */
  private readonly baseDelayMs: number;

  constructor(
    private readonly wallMs: () => number = Date.now,
    baseDelayMs = 0,
  ) {
    this.baseDelayMs = baseDelayMs;
  }

  /** Record a timed or counted fault (drop and notify are actions the server performs; they are not stored). */
  add(f: Fault): void {
    const until = 'for_s' in f ? this.wallMs() + f.for_s * 1000 : 0;
    switch (f.kind) {
      case 'delay':
        this.delays.push({ fault: f, untilMs: until });
        break;
      case 'quote_stall':
        this.stalls.push({ fault: f, untilMs: until });
        break;
      case 'limit_lock':
        this.locks.push({ fault: f, untilMs: until });
        break;
      case 'bad_values':
        this.bad.push({ ...f });
        break;
      case 'maintenance':
        this.maintenanceUntilMs = Math.max(this.maintenanceUntilMs, until);
        break;
      case 'odd_ns':
        this.oddNs = f.on;
        break;
      case 'drop':
      case 'notify':
        break;
    }
  }

  clear(): void {
    this.delays = [];
    this.stalls = [];
    this.locks = [];
    this.bad = [];
    this.maintenanceUntilMs = 0;
    this.oddNs = false;
  }

  private live<T>(list: Timed<T>[]): Timed<T>[] {
    const now = this.wallMs();
    return list.filter((t) => t.untilMs > now);
  }

  delayMs(kind: SocketKind): number {
    this.delays = this.live(this.delays);
    let ms = this.baseDelayMs;
    for (const d of this.delays) if (d.fault.socket === 'all' || d.fault.socket === kind) ms = Math.max(ms, d.fault.ms);
    return ms;
  }

  /** An on-demand maintenance window is running. */
  get onDemandMaintenance(): boolean {
    return this.maintenanceUntilMs > this.wallMs();
  }

  stalled(symbol: string): boolean {
    this.stalls = this.live(this.stalls);
    return this.stalls.some((s) => s.fault.symbol === '*' || s.fault.symbol === symbol);
  }

  limitLock(symbol: string): 'up' | 'down' | null {
    this.locks = this.live(this.locks);
    return this.locks.find((l) => l.fault.symbol === symbol)?.fault.side ?? null;
  }

  /** Take one use of a bad-values fault for `symbol` (the next quote/tick patch carries it), or null. */
  takeBadValues(symbol: string): { fields: string[]; value: BadValue } | null {
    const f = this.bad.find((b) => b.symbol === symbol && b.count > 0);
    if (!f) return null;
    f.count -= 1;
    if (f.count === 0) this.bad = this.bad.filter((b) => b !== f);
    return { fields: f.fields, value: f.value };
  }

  /** Active faults, for `GET /admin/faults`. */
  describe(): Record<string, unknown> {
    const now = this.wallMs();
    return {
      delay: this.live(this.delays).map((d) => ({ ...d.fault, remaining_s: (d.untilMs - now) / 1000 })),
      quote_stall: this.live(this.stalls).map((d) => ({ ...d.fault, remaining_s: (d.untilMs - now) / 1000 })),
      limit_lock: this.live(this.locks).map((d) => ({ ...d.fault, remaining_s: (d.untilMs - now) / 1000 })),
      bad_values: this.bad.map((b) => ({ ...b })),
      maintenance_remaining_s: Math.max(0, (this.maintenanceUntilMs - now) / 1000),
      odd_ns: this.oddNs,
      base_delay_ms: this.baseDelayMs,
    };
  }
}

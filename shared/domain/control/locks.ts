/**
 * Lease locks (trading-chain §2): one holder per key, a fencing token monotonic per key, acquisition by conditional
 * write only when the key is free or its lease expired. No preemption, ever: a live holder is never displaced.
 */
export interface LockOwner {
  /** Job id or process identity that owns the lease; release and renew require it. */
  ownerId: string;
  host: string;
  pid: number;
}

export interface Lease {
  key: string;
  ownerId: string;
  /** Fencing token: strictly greater than any token handed out before for this key. */
  fence: number;
  expiresAtMs: number;
}

export interface LockHolder {
  key: string;
  owner: string;
  host: string;
  pid: number;
  fence: number;
  expires_at: string;
}

export type AcquireResult = { ok: true; leases: Lease[] } | { ok: false; conflicts: LockHolder[] };

/** Port: the lock store. Adapter: `shared/infra/aws/lock-store.ts` (DynamoDB). */
export interface LockStore {
  /** Acquire one key. A conflict names the holder. */
  acquire(key: string, owner: LockOwner, leaseMs: number): Promise<AcquireResult>;
  /** Acquire all keys in sorted order; on any conflict release those taken (reverse order) and report it. */
  acquireAll(keys: string[], owner: LockOwner, leaseMs: number): Promise<AcquireResult>;
  /** Extend a lease; throws `LockLostError` when the lease is no longer ours. */
  renew(lease: Lease, leaseMs: number): Promise<Lease>;
  /** Release a lease we hold; false when it was not ours any more (expired and taken, or already released). */
  release(lease: Lease): Promise<boolean>;
  /** The current holder, or null when free or expired. */
  holder(key: string): Promise<LockHolder | null>;
}

/** A lease as `GET /api/locks` lists it (control-chain §3.2): an expired one is free for the next taker. */
export interface LockListing {
  key: string;
  owner: string;
  host: string;
  pid: number;
  fencing_token: number;
  acquired_at: string;
  renewed_at: string;
  expires_at: string;
  expired: boolean;
}

export interface LockListPage {
  items: LockListing[];
  /** Store position after the last item, or null at the end. */
  next: Record<string, unknown> | null;
}

/** Port: the leases in key order (an index query), optionally those whose key starts with `prefix`. */
export interface LockLister {
  list(q: { prefix?: string; limit: number; start?: Record<string, unknown> }): Promise<LockListPage>;
}

/** Trading locks are never taken, waited for or preempted by jobs (control-chain §4). */
export function isTradingLockKey(key: string): boolean {
  return key.startsWith('trade:');
}

/** The gateway's lease of an account profile (trading-chain §1): held while its broker session may be open. */
export function gatewayLeaseKey(profile: string): string {
  return `trade:account=${profile}`;
}

/** The trading lease of a supervised component: the gateway's, or the strategy runner's `trade:strategy:account=<p>`. */
export function componentLeaseKey(component: 'gateway' | 'strategy', profile: string): string {
  return component === 'gateway' ? gatewayLeaseKey(profile) : `trade:strategy:account=${profile}`;
}

/**
 * The build lock of a continuous symbol's main_l5 (data-chain §5.1): held by the build from planning through finalize,
 * and by a validation of that symbol (§6.1).
 */
export function mainL5LockKey(symbol: string): string {
  return `main_l5:symbol=${symbol}`;
}

/** The key prefix of every source slot lease. */
export const SOURCE_SLOT_PREFIX = 'source:slot=';

/** A source slot lease (`GHTRADER_MAX_PARALLEL_TQSDK_JOBS` of them), taken by source-bound job kinds (control-chain §4). */
export function sourceSlotKey(n: number): string {
  return `${SOURCE_SLOT_PREFIX}${n}`;
}

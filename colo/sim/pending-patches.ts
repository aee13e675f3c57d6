/**
 * Per-connection pending merge patches (market-protocol §2.4).
 *
 * Every change the simulator has for a connection is pushed here as an RFC 7386 merge patch and goes out as the
 * `data` array of the next `rtn_data`. Consecutive patches are coalesced into the last pending element so a slow
 * reader gets one compact frame, not a backlog. Composition of merge patches is exact except for one case: a key
 * pending as `null` (delete) followed by an object for the same key (re-create). Merging the object into the `null`
 * would turn "delete, then create {a}" into "merge {a} into whatever the client still holds", leaving stale fields,
 * so such a patch starts a new element instead.
 *
 * Bound: coalescing keeps the pending size proportional to the state that changed (each key holds its newest value);
 * the only growth is new keys (chart rows), which the chart engine bounds by `view_width` ≤ 10,000 per chart.
 */

export type Patch = Record<string, unknown>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when applying `next` after `prev` differs from applying their deep merge (a delete-then-recreate). */
export function conflicts(prev: Patch, next: Patch): boolean {
  for (const key of Object.keys(next)) {
    const n = next[key];
    if (!isObject(n)) continue;
    const p = prev[key];
    if (p === null) return true;
    if (isObject(p) && conflicts(p, n)) return true;
  }
  return false;
}

/** Merge `next` into `prev` in place (both are merge patches; the result is their composition). */
export function mergePatchInto(prev: Patch, next: Patch, owned = false): void {
  for (const key of Object.keys(next)) {
    const n = next[key];
    const p = prev[key];
    if (isObject(n) && isObject(p)) mergePatchInto(p, n, owned);
    else prev[key] = isObject(n) && !owned ? clonePatch(n) : n;
  }
}

/** True when `v` holds a NaN or ±Infinity number anywhere (arrays and nested objects included). */
export function holdsNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return v - v !== 0;
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return v.some(holdsNonFinite);
  for (const key in v) if (holdsNonFinite((v as Record<string, unknown>)[key])) return true;
  return false;
}

function clonePatch(p: Patch): Patch {
  const out: Patch = {};
  for (const key of Object.keys(p)) {
    const v = p[key];
    out[key] = isObject(v) ? clonePatch(v) : v;
  }
  return out;
}

/** How `PendingPatches.push` may treat a patch. */
export interface PushOptions {
  /**
   * The caller hands the patch (every object in it) over and never touches it again, so it is adopted without a copy
   * (a chart chunk of fresh rows, an eviction).
   */
  owned?: boolean;
  /**
   * The caller has already checked that the patch holds no NaN/±Infinity (a chart chunk, checked row by row as it was
   * built); any other patch is walked here to find out (see `holdsNonFinite`).
   */
  checkedFinite?: boolean;
  /**
   * Queue an owned patch as an element of its own instead of merging it into the last one: the same result for the
   * client (a frame's elements apply in order), without copying a 2,000-row chunk key by key into a pending eviction.
   * Only for patches queued once per frame (the chart chunk `fill` adds just before a flush), so pending stays bounded.
   */
  separate?: boolean;
}

export class PendingPatches {
  private elements: Patch[] = [];
  private nonFinite = false;

  /** Queue a patch; unless `owned`, it is copied, so the caller may reuse its object (see `PushOptions`). */
  push(patch: Patch, opts: PushOptions = {}): void {
    const owned = opts.owned === true;
    if (opts.checkedFinite !== true && !this.nonFinite && holdsNonFinite(patch)) this.nonFinite = true;
    const last = this.elements.at(-1);
    if (last === undefined || (owned && opts.separate === true) || conflicts(last, patch)) {
      this.elements.push(owned ? patch : clonePatch(patch));
    } else mergePatchInto(last, patch, owned);
  }

  get isEmpty(): boolean {
    return this.elements.length === 0;
  }

  /** Number of pending elements (the length of the next `data` array). */
  get length(): number {
    return this.elements.length;
  }

  /**
   * True when some patch pending since the last `take` holds a NaN or ±Infinity. False lets the frame be serialised in
   * one native pass (`stringifyDiffJson`'s `knownFinite`): a chart chunk otherwise costs a second pass to tell a real
   * `null` (a deleted row) from a NaN the native serialiser also writes as `null`.
   */
  get holdsNonFinite(): boolean {
    return this.nonFinite;
  }

  /** Remove and return everything pending, in order. */
  take(): Patch[] {
    const out = this.elements;
    this.elements = [];
    this.nonFinite = false;
    return out;
  }

  clear(): void {
    this.elements = [];
    this.nonFinite = false;
  }
}

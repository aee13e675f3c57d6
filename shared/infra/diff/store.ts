/**
 * The DIFF merge store (market-protocol §1.6): one mirror tree per socket, updated by RFC 7386 merge patches.
 *
 * Merge rules: an object value recurses (creating the node); a scalar or array overwrites (arrays are opaque); `null`
 * deletes the key and its subtree, and deleting an absent key is a silent no-op; an object emptied by a deletion is
 * removed. A `rtn_data` array is one transaction: `DiffStore.applyBatch` validates every element, applies them all,
 * then publishes one `update` event. Keys named `__proto__` are never written.
 */
import { ProtocolError } from '#shared/errors/diff.ts';
import { DIFF_SCHEMA, type FieldType, type SchemaNode } from './fields.ts';

/**
 * A set of slash-joined paths, kept as (parent path, key) pairs: a merge records a 2,000-row chart page as 2,000 keys
 * under one parent, with no path string built per row (joining and hashing them was a download's largest merge cost).
 * Full paths are only built when someone iterates them (`toSet`). Keys holding a `/` are split like any path.
 */
class PathRecord {
  private readonly byParent = new Map<string, Set<string>>();
  private lastParent: string | undefined;
  private lastKeys: Set<string> | undefined;
  private count = 0;

  add(parent: string, key: string): void {
    if (key.includes('/')) {
      const full = join(parent, key);
      const i = full.lastIndexOf('/');
      this.addSplit(full.slice(0, i), full.slice(i + 1));
      return;
    }
    this.addSplit(parent, key);
  }

  private addSplit(parent: string, key: string): void {
    let keys = parent === this.lastParent ? this.lastKeys : this.byParent.get(parent);
    if (keys === undefined) {
      keys = new Set();
      this.byParent.set(parent, keys);
    }
    this.lastParent = parent;
    this.lastKeys = keys;
    const before = keys.size;
    keys.add(key);
    this.count += keys.size - before;
  }

  has(path: string): boolean {
    const i = path.lastIndexOf('/');
    const keys = i < 0 ? this.byParent.get('') : this.byParent.get(path.slice(0, i));
    return keys?.has(i < 0 ? path : path.slice(i + 1)) === true;
  }

  get size(): number {
    return this.count;
  }

  toSet(): Set<string> {
    const out = new Set<string>();
    for (const [parent, keys] of this.byParent) for (const k of keys) out.add(join(parent, k));
    return out;
  }
}

/** Where a merge writes what it changed. `cuts` are paths deleted or replaced by a value of another kind. */
interface Recorder {
  readonly leaves: PathRecord | undefined;
  readonly nodes: PathRecord | undefined;
  readonly cuts: PathRecord | undefined;
}

export interface DriftReport {
  path: string;
  expected: FieldType;
  found: unknown;
}

interface MergeContext {
  readonly rec: Recorder;
  readonly onDrift: ((d: DriftReport) => void) | undefined;
  /** False only for the resync release, where an empty object in the new snapshot is data, not an emptied node. */
  readonly pruneEmptied: boolean;
  /** True when the patches belong to the store (`applyBatch`): objects that create nodes become those nodes. */
  readonly adopt: boolean;
}

/** A recorder that records nothing, for the inside of nodes created by a batch (recorded once, as a cut). */
const SILENT: { rec: Recorder } = { rec: { leaves: undefined, nodes: undefined, cuts: undefined } };

const CHANGED = 1;
const DELETED = 2;

/** Values treated as "no number" in a numeric field without a drift report (`close`/`settlement` are "-" by day). */
const SILENT_NAN = new Set(['-', 'NAN', 'NaN', '']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}/${key}`;
}

function isEmpty(o: Record<string, unknown>): boolean {
  for (const _ in o) return false;
  return true;
}

/** Equality for change detection: NaN equals NaN, arrays compare element-wise. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !sameValue(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** Coerce one wire value to its table type; a mismatch other than the silent NaN spellings is reported as drift. */
export function coerceField(type: FieldType, v: unknown, path: string, onDrift?: (d: DriftReport) => void): unknown {
  switch (type) {
    case 'number':
      if (typeof v === 'number') return v;
      if (typeof v === 'string') {
        if (!SILENT_NAN.has(v)) onDrift?.({ path, expected: type, found: v });
        return Number.NaN;
      }
      if (typeof v === 'bigint') {
        onDrift?.({ path, expected: type, found: v });
        return Number(v);
      }
      break;
    case 'ns':
      if (typeof v === 'bigint') return v;
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
      break;
    case 'string':
      if (typeof v === 'string') return v;
      break;
    case 'bool':
      if (typeof v === 'boolean') return v;
      break;
  }
  onDrift?.({ path, expected: type, found: v });
  return v;
}

function mergeNode(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
  path: string,
  schema: SchemaNode | undefined,
  ctx: MergeContext,
): number {
  let flags = 0;
  const rec = ctx.rec;
  for (const key in patch) {
    if (!Object.hasOwn(patch, key) || key === '__proto__') continue;
    const pv = patch[key];
    if (pv === undefined) continue;
    const type = schema?.fields?.[key];
    if (type !== undefined && (type === 'number' ? typeof pv === 'number' : type === 'ns' && typeof pv === 'bigint')) {
      // Hot path of chart rows: a value already of its table type needs no coercion and, on a key the target does
      // not hold yet, no change check.
      const cur = target[key];
      if (cur === undefined && !Object.hasOwn(target, key)) {
        target[key] = pv;
        rec.leaves?.add(path, key);
        flags |= CHANGED;
        continue;
      }
      if (Object.is(cur, pv)) continue;
      target[key] = pv;
      rec.leaves?.add(path, key);
      if (isPlainObject(cur) || Array.isArray(cur)) rec.cuts?.add(path, key);
      flags |= CHANGED;
      continue;
    }
    if (pv === null) {
      if (Object.hasOwn(target, key)) {
        delete target[key];
        rec.leaves?.add(path, key);
        rec.cuts?.add(path, key);
        flags |= CHANGED | DELETED;
      }
      continue;
    }
    if (isPlainObject(pv)) {
      const cur = target[key];
      const childSchema = schema?.children?.[key] ?? schema?.children?.['*'];
      if (!isPlainObject(cur)) {
        // A node created by this batch: everything under it is new, so it is recorded once as a cut (every path
        // below it counts as changed) instead of leaf by leaf. A 2,000-row chart page would otherwise record
        // ~60,000 full paths, the download's hottest cost.
        rec.leaves?.add(path, key);
        rec.cuts?.add(path, key);
        rec.nodes?.add(path, key);
        flags |= CHANGED;
        if (ctx.adopt) {
          // The patch belongs to the store (a freshly parsed frame): the object itself becomes the node, cleaned in
          // place, instead of being copied key by key (the copy was a fifth of a download's CPU).
          adoptNode(pv, path, key, childSchema, ctx.onDrift);
          target[key] = pv;
          continue;
        }
        const child: Record<string, unknown> = {};
        target[key] = child;
        mergeNode(child, pv, join(path, key), childSchema, ctx.rec === SILENT.rec ? ctx : { ...ctx, rec: SILENT.rec });
        continue;
      }
      const r = mergeNode(cur, pv, join(path, key), childSchema, ctx);
      if (r & CHANGED) {
        rec.nodes?.add(path, key);
        flags |= CHANGED;
      }
      if (r & DELETED && ctx.pruneEmptied && isEmpty(cur)) {
        delete target[key];
        rec.leaves?.add(path, key);
        rec.cuts?.add(path, key);
        flags |= CHANGED | DELETED;
      }
      continue;
    }
    const v = type === undefined ? pv : coerceField(type, pv, join(path, key), ctx.onDrift);
    const cur = target[key];
    if (sameValue(cur, v)) continue;
    target[key] = v;
    rec.leaves?.add(path, key);
    if (isPlainObject(cur) || Array.isArray(cur) || Array.isArray(v)) rec.cuts?.add(path, key);
    flags |= CHANGED;
  }
  return flags;
}

/**
 * Make a patch object that creates a node (at `parent`/`name`) into that node, in place, with the result `mergeNode`
 * would build into an empty object: `null` (delete of an absent key) and `__proto__` keys removed, objects recursed,
 * values coerced to their table type (drift reported as in a merge). The node's path is only built when needed.
 */
function adoptNode(
  node: Record<string, unknown>,
  parent: string,
  name: string,
  schema: SchemaNode | undefined,
  onDrift: ((d: DriftReport) => void) | undefined,
): void {
  const fields = schema?.fields;
  for (const key in node) {
    if (!Object.hasOwn(node, key)) continue;
    const v = node[key];
    if (v === null || v === undefined || key === '__proto__') {
      delete node[key];
      continue;
    }
    const type = fields?.[key];
    if (type !== undefined) {
      if (type === 'number' ? typeof v === 'number' : type === 'ns' && typeof v === 'bigint') continue;
      if (!isPlainObject(v)) {
        node[key] = coerceField(type, v, join(join(parent, name), key), onDrift);
        continue;
      }
    }
    if (isPlainObject(v)) {
      adoptNode(v, join(parent, name), key, schema?.children?.[key] ?? schema?.children?.['*'], onDrift);
    }
  }
}

/**
 * Apply one RFC 7386 merge patch to `target` in place with the DIFF rules (no field coercion). Every slash-joined path
 * set, deleted or replaced is added to `changed`, prefixed by `path`; a node the patch creates is added once as its
 * own path (not leaf by leaf). Values equal to the current ones (NaN included) are not changes. Throws `ProtocolError` when `patch` is not a JSON object.
 *
 * @example
 * const tree = {};
 * applyMergePatch(tree, { quotes: { 'SHFE.cu2502': { last_price: 75230, ask_price6: null } } });
 */
export function applyMergePatch(
  target: Record<string, unknown>,
  patch: unknown,
  changed?: Set<string>,
  path = '',
): void {
  if (!isPlainObject(patch)) {
    throw new ProtocolError('a merge patch element must be a JSON object', { found: describe(patch), path });
  }
  const leaves = changed === undefined ? undefined : new PathRecord();
  mergeNode(target, patch, path, undefined, {
    rec: { leaves, nodes: undefined, cuts: undefined },
    onDrift: undefined,
    pruneEmptied: true,
    adopt: false,
  });
  if (changed !== undefined && leaves !== undefined) for (const p of leaves.toSet()) changed.add(p);
}

/**
 * The merge patch that turns `from` into `to` (deleted keys as `null`, objects recursed, changed scalars and arrays
 * as values). Applying it with emptied-node pruning off reproduces `to` exactly.
 */
export function diffTrees(from: Record<string, unknown>, to: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const k in from) if (Object.hasOwn(from, k) && !Object.hasOwn(to, k)) patch[k] = null;
  for (const k in to) {
    if (!Object.hasOwn(to, k)) continue;
    const a = from[k];
    const b = to[k];
    if (isPlainObject(b)) {
      if (isPlainObject(a)) {
        const sub = diffTrees(a, b);
        if (!isEmpty(sub)) patch[k] = sub;
      } else {
        // New node, or a scalar replaced by an object: the whole subtree is the value.
        patch[k] = structuredClone(b);
      }
    } else if (!sameValue(a, b)) {
      patch[k] = Array.isArray(b) ? structuredClone(b) : b;
    }
  }
  return patch;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** The paths one applied batch touched, with the `changed(prefix)` query of §1.6. */
export class ChangeSet {
  private cachedPaths: ReadonlySet<string> | undefined;

  /** @internal Built by the store from what one batch recorded. */
  constructor(
    private readonly leaves: PathRecord,
    private readonly nodes: PathRecord,
    private readonly cuts: PathRecord,
  ) {}

  static empty(): ChangeSet {
    return new ChangeSet(new PathRecord(), new PathRecord(), new PathRecord());
  }

  /** Every path set, created, deleted or replaced in the batch (built on first read). */
  get paths(): ReadonlySet<string> {
    this.cachedPaths ??= this.leaves.toSet();
    return this.cachedPaths;
  }

  /**
   * True iff a recorded path equals `prefix` or lies under it (segment-wise: `quotes/SHFE.cu25` does not match
   * `quotes/SHFE.cu2502`), or `prefix` lies under a path deleted or replaced in the batch. `''` = anything changed.
   */
  has(prefix: string): boolean {
    const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    if (p === '') return this.leaves.size > 0;
    if (this.leaves.has(p) || this.nodes.has(p)) return true;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      if (this.cuts.has(p.slice(0, i))) return true;
    }
    return false;
  }
}

export interface UpdateEvent {
  /** Monotonic per store (per socket), starting at 1 for the first applied batch. */
  batch_seq: number;
  changes: ChangeSet;
  /** True for the one batch that releases a resync snapshot (§1.11). */
  resync: boolean;
}

export interface SchemaDriftEvent extends DriftReport {
  batch_seq: number;
}

export interface DiffStoreOptions {
  /** Field-type table; `null` stores values as received. Default: the DIFF table of §1.6. */
  schema?: SchemaNode | null;
}

type Listener<T> = (e: T) => void;

/**
 * The client's mirror of one socket's data tree. Readers get the live tree (`root`, `get`) and must treat it as
 * read-only; listeners run synchronously after each batch, so a listener never sees a half-applied batch.
 */
export class DiffStore {
  readonly root: Record<string, unknown> = {};
  private seq = 0;
  private last: ChangeSet = ChangeSet.empty();
  private readonly schema: SchemaNode | undefined;
  private readonly updateListeners = new Set<Listener<UpdateEvent>>();
  private readonly driftListeners = new Set<Listener<SchemaDriftEvent>>();

  constructor(options: DiffStoreOptions = {}) {
    this.schema = options.schema === null ? undefined : (options.schema ?? DIFF_SCHEMA);
  }

  /** Number of batches applied so far (the `batch_seq` of the last update event). */
  get batchSeq(): number {
    return this.seq;
  }

  /** The change set of the last applied batch. */
  get lastChanges(): ChangeSet {
    return this.last;
  }

  /** §1.6 `changed(prefix)` over the last applied batch. */
  changed(prefix: string): boolean {
    return this.last.has(prefix);
  }

  /**
   * Apply one `rtn_data.data` array as one transaction and publish one `update` event. Throws `ProtocolError` before
   * touching the tree when any element is not an object. The store takes ownership of `data`: objects that create
   * nodes become part of the tree, so the caller must not reuse them (a freshly parsed frame).
   */
  applyBatch(data: readonly unknown[]): UpdateEvent {
    for (let i = 0; i < data.length; i++) {
      if (!isPlainObject(data[i])) {
        throw new ProtocolError(`rtn_data.data[${i}] must be a JSON object`, { index: i, found: describe(data[i]) });
      }
    }
    return this.run(data as Record<string, unknown>[], true, false, true);
  }

  /**
   * Release a resync snapshot (§1.11): make this tree equal to `snapshot` with one batch holding the difference,
   * deletions included. Empty objects of the snapshot are kept.
   */
  releaseSnapshot(snapshot: Record<string, unknown>): UpdateEvent {
    return this.run([diffTrees(this.root, snapshot)], false, true, true);
  }

  private run(
    patches: readonly Record<string, unknown>[],
    prune: boolean,
    resync: boolean,
    adopt: boolean,
  ): UpdateEvent {
    const leaves = new PathRecord();
    const nodes = new PathRecord();
    const cuts = new PathRecord();
    const drifts: DriftReport[] = [];
    const ctx: MergeContext = {
      rec: { leaves, nodes, cuts },
      onDrift: (d) => drifts.push(d),
      pruneEmptied: prune,
      adopt,
    };
    for (const p of patches) mergeNode(this.root, p, '', this.schema, ctx);
    this.seq++;
    this.last = new ChangeSet(leaves, nodes, cuts);
    const event: UpdateEvent = { batch_seq: this.seq, changes: this.last, resync };
    for (const d of drifts) for (const l of this.driftListeners) l({ ...d, batch_seq: this.seq });
    for (const l of this.updateListeners) l(event);
    return event;
  }

  /** The value at a slash-joined path (`quotes/SHFE.cu2502/last_price`), or undefined. */
  get(path: string): unknown {
    if (path === '') return this.root;
    let node: unknown = this.root;
    for (const seg of path.split('/')) {
      if (!isPlainObject(node) || !Object.hasOwn(node, seg)) return undefined;
      node = node[seg];
    }
    return node;
  }

  /** Subscribe to update events; returns the unsubscribe function. */
  onUpdate(listener: Listener<UpdateEvent>): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  /** Subscribe to schema-drift reports (one per offending value); returns the unsubscribe function. */
  onSchemaDrift(listener: Listener<SchemaDriftEvent>): () => void {
    this.driftListeners.add(listener);
    return () => this.driftListeners.delete(listener);
  }
}

/**
 * Account ledgers on disk: one DIFF-JSON file per user under `$GHTRADER_HOME/sim/accounts/`, replaced atomically
 * (write a temp file in the same directory, fsync, rename), read back through `LedgerSchema`. Writes per user are
 * serialised and coalesced: while one is in flight, further saves collapse into one more write of the newest state.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parseDiffJson, stringifyDiffJson } from '#shared/infra/diff/json.ts';
import { readTextIfExists } from '#shared/infra/local/files.ts';
import { LedgerCorruptError } from './errors.ts';
import { type Ledger, LedgerSchema } from './trade-engine/ledger.ts';

export interface LedgerStore {
  load(userName: string): Promise<Ledger | null>;
  /** Persist the ledger's current state (the object may keep changing; the newest state wins). */
  save(ledger: Ledger): Promise<void>;
  /** Move a ledger aside (kept for inspection) so the user starts afresh. */
  archive(userName: string, reason: string): Promise<string | null>;
  /** Resolves when every pending write has landed. */
  idle(): Promise<void>;
}

export class MemoryLedgerStore implements LedgerStore {
  private readonly saved = new Map<string, string>();

  async load(userName: string): Promise<Ledger | null> {
    const text = this.saved.get(userName);
    return text === undefined ? null : LedgerSchema.parse(parseDiffJson(text));
  }

  async save(ledger: Ledger): Promise<void> {
    this.saved.set(ledger.user_name, stringifyDiffJson(ledger));
  }

  async archive(userName: string): Promise<string | null> {
    this.saved.delete(userName);
    return null;
  }

  async idle(): Promise<void> {}
}

interface WriteState {
  running: Promise<void> | null;
  again: boolean;
}

export class FileLedgerStore implements LedgerStore {
  readonly dir: string;
  private readonly writes = new Map<string, WriteState>();

  constructor(home: string) {
    this.dir = path.join(home, 'sim', 'accounts');
  }

  private fileOf(userName: string): string {
    return path.join(this.dir, `${encodeURIComponent(userName)}.json`);
  }

  async load(userName: string): Promise<Ledger | null> {
    const file = this.fileOf(userName);
    const text = await readTextIfExists(file);
    if (text === null) return null;
    let parsed: unknown;
    try {
      parsed = parseDiffJson(text);
    } catch (err) {
      throw new LedgerCorruptError(file, 'not DIFF JSON', { cause: err });
    }
    const r = LedgerSchema.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new LedgerCorruptError(file, `${issue?.message} at ${issue?.path.map(String).join('.')}`, {
        cause: r.error,
      });
    }
    if (r.data.user_name !== userName) throw new LedgerCorruptError(file, `holds user ${r.data.user_name}`);
    return r.data;
  }

  save(ledger: Ledger): Promise<void> {
    let st = this.writes.get(ledger.user_name);
    if (!st) {
      st = { running: null, again: false };
      this.writes.set(ledger.user_name, st);
    }
    const state = st;
    if (state.running) {
      state.again = true;
      return state.running;
    }
    const run = async (): Promise<void> => {
      do {
        state.again = false;
        await this.writeAtomically(this.fileOf(ledger.user_name), stringifyDiffJson(ledger));
      } while (state.again);
    };
    state.running = run().finally(() => {
      state.running = null;
    });
    return state.running;
  }

  private async writeAtomically(file: string, text: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  async archive(userName: string, reason: string): Promise<string | null> {
    const file = this.fileOf(userName);
    const to = `${file}.${reason}-${Date.now()}.json`;
    try {
      await rename(file, to);
      return to;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async idle(): Promise<void> {
    await Promise.all([...this.writes.values()].map((w) => w.running ?? Promise.resolve()));
  }
}

/**
 * `ghtrader locks list [--prefix P] [--limit N] [--cursor C]`: the lease locks (job locks, source slots, trading,
 * supervisor and broadcaster leases) in key order, as `GET /api/locks` lists them: from the store with the CLI's
 * credentials, or with `--api URL` from that route. For "who holds this lock?" when a job waits or fails `lock_timeout`.
 */
import type { Command } from 'commander';
import { type LockListResult, LocksService } from '#shared/services/locks-service.ts';
import { allowApi, apiClient } from '../api-client.ts';
import { reportError } from '../cli-support.ts';
import { withRuntime } from './jobs.ts';

interface Global {
  home?: string;
  json?: boolean;
  api?: string;
}

async function listLocks(g: Global, query: Record<string, string>): Promise<LockListResult> {
  if (g.api !== undefined) return apiClient(g.api).get<LockListResult>('/api/locks', query);
  return withRuntime(g.home, (rt, cursorSecret) => new LocksService({ locks: rt.locks, cursorSecret }).list(query));
}

/** One line per lease: key, state, owner, host/pid, fencing token, expiry; then the next-page hint. */
export function formatLocks(page: LockListResult): string {
  if (page.items.length === 0) return 'no lease is held';
  const lines = page.items.map(
    (l) =>
      `${l.key}  ${l.expired ? 'EXPIRED' : 'held   '}  ${l.owner}  ${l.host}/${l.pid}  fence ${l.fencing_token}  expires ${l.expires_at}`,
  );
  if (page.next_cursor) lines.push(`next: --cursor ${page.next_cursor}`);
  return lines.join('\n');
}

export function registerLocks(program: Command): void {
  const locks = program.command('locks').description('list the lease locks and who holds them');
  const g = (): Global => program.opts<Global>();
  const list = locks
    .command('list')
    .description('the leases in key order (an expired one is free for the next taker)')
    .option('--prefix <prefix>', 'keys starting with this, e.g. trade: or main_l5:')
    .option('--limit <n>', 'page size (clamped to 1..500, default 100)')
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .action((o: { prefix?: string; limit?: string; cursor?: string }) =>
      listLocks(g(), Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined)))
        .then((page) => {
          process.stdout.write(g().json ? `${JSON.stringify(page)}\n` : `${formatLocks(page)}\n`);
        })
        .catch((e) => reportError(e, Boolean(g().json))),
    );
  allowApi(list);
}

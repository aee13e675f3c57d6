/**
 * `ghtrader config ...` (control-chain §5, §11): the same ConfigService the API uses, called directly with the running
 * stack's store credentials as `cli:<os-user>@<host>` (role admin), so key rules, validation, revisions and audit are
 * identical to `POST /api/config/*`. The `config.revision` publish is best effort: a Redis outage never fails a command.
 * With `--api URL`, `get`, `set`, `unset`, `history`, `show`, `diff`, `rollback` and `schema` ask `/api/config/*`
 * instead, as the token's owner; each command gets its result from a `ConfigSource` and prints it the same way.
 */
import type { Command } from 'commander';
import {
  type ConfigRevision,
  diffSnapshots,
  type EffectiveItem,
  resolveConfig,
} from '#shared/domain/control/config.ts';
import { classifyConfigKey } from '#shared/domain/control/config-registry.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { DynamoAuditLog } from '#shared/infra/aws/audit-log.ts';
import { DynamoConfigStore } from '#shared/infra/aws/config-store.ts';
import type { Caller } from '#shared/services/auth-service.ts';
import {
  type ConfigRollbackRequest,
  ConfigService,
  type ConfigSetRequest,
  type EffectiveView,
  type HistoryItem,
  type SchemaItem,
  type WriteResult,
} from '#shared/services/config-service.ts';
import { type ApiClient, allowApi, apiClient, seg } from '../api-client.ts';
import { CliUsageError, reportError, withCliStores } from '../cli-support.ts';

interface Global {
  home?: string;
  json?: boolean;
  api?: string;
}

interface ConfigCli {
  service: ConfigService;
  caller: Caller;
  env: Readonly<Record<string, string | undefined>>;
}

interface HistoryPage {
  items: HistoryItem[];
  next_cursor: string | null;
  limit: number;
}

/** Where the API-capable `config` commands get their results: the ConfigService on the stores, or the HTTP API. */
interface ConfigSource {
  effective(query: { prefix?: string; var?: string }): Promise<EffectiveView>;
  getRevision(revision: number): Promise<ConfigRevision>;
  history(query: { limit: string; cursor?: string }): Promise<HistoryPage>;
  schema(): Promise<SchemaItem[]>;
  set(req: ConfigSetRequest): Promise<WriteResult>;
  rollback(req: ConfigRollbackRequest): Promise<WriteResult>;
  /**
   * The environment layer for resolving a session-scoped key: the stack's own env on the stores; through the API the
   * server's env as far as the effective view shows it (`item.source` = `env:KEY`), as nothing else of it is exposed.
   */
  envFor(item: EffectiveItem): Readonly<Record<string, string | undefined>>;
}

function storeConfig({ service, caller, env }: ConfigCli): ConfigSource {
  return {
    effective: (query) => service.effective(query),
    getRevision: (revision) => service.getRevision(revision),
    history: (query) => service.history(query),
    schema: async () => service.schema(),
    set: (req) => service.set(caller, req, 'cli_set'),
    rollback: (req) => service.rollback(caller, req),
    envFor: () => env,
  };
}

function apiConfig(api: ApiClient): ConfigSource {
  return {
    effective: (query) => api.get<EffectiveView>('/api/config/effective', query),
    getRevision: (revision) => api.get<ConfigRevision>(`/api/config/revisions/${seg(revision)}`),
    history: (query) => api.get<HistoryPage>('/api/config/history', query),
    schema: async () => (await api.get<{ items: SchemaItem[] }>('/api/config/schema')).items,
    set: (req) => api.post<WriteResult>('/api/config/set', req),
    rollback: (req) => api.post<WriteResult>('/api/config/rollback', req),
    envFor: (item) =>
      item.source.startsWith('env:') && item.value !== null ? { [item.source.slice(4)]: String(item.value) } : {},
  };
}

/** Run `fn` with the config of the stack under `--home`, or of the API at `--api`. */
async function withConfig<T>(g: Global, fn: (c: ConfigSource) => Promise<T>): Promise<T> {
  if (g.api !== undefined) return fn(apiConfig(apiClient(g.api)));
  return withConfigService(g.home, (c) => fn(storeConfig(c)));
}

/**
 * Attach to the stack under `--home`, build the ConfigService and run `fn`; its `config.revision` and `audit:updates`
 * messages go out on Redis after the command (`withCliStores`).
 */
function withConfigService<T>(home: string | undefined, fn: (c: ConfigCli) => Promise<T>): Promise<T> {
  return withCliStores(home, ({ config, log, clients, cursorSecret, caller, publish }) => {
    const service = new ConfigService({
      store: new DynamoConfigStore(clients.doc, config.tables.config),
      audit: new DynamoAuditLog(clients.doc, config.tables.audit, systemClock, ulidGen, (entry) =>
        publish('audit:updates', entry),
      ),
      publish,
      clock: systemClock,
      log: log.child({ component: 'config' }),
      env: config.env,
      cursorSecret,
    });
    return fn({ service, caller, env: config.env });
  });
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

/** `KEY=VALUE` arguments as a values map; an empty value, a missing `=` or a repeated key is bad input. */
export function parseAssignments(pairs: readonly string[]): Record<string, string> {
  if (pairs.length === 0) throw new CliUsageError('config set expects at least one KEY=VALUE');
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new CliUsageError(`config set expects KEY=VALUE, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, i);
    const value = pair.slice(i + 1);
    if (value.trim() === '') {
      throw new CliUsageError(`${key}: empty value; use \`ghtrader config unset ${key}\` to remove a key`);
    }
    if (Object.hasOwn(out, key)) throw new CliUsageError(`${key} is given more than once`);
    out[key] = value;
  }
  return out;
}

function revisionArg(value: string, what = 'REV'): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new CliUsageError(`${what} must be a revision number ≥ 1, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function writeText(r: WriteResult): string {
  if (!r.changed) return `no change: head is revision ${r.revision} (hash ${r.config_hash})`;
  const to = r.rollback_to === undefined ? '' : ` (rollback to ${r.rollback_to})`;
  const unused = (r.unused_keys ?? []).map((u) => `\nnote: ${u.key} is stored, but nothing reads it yet: ${u.reason}`);
  return `revision ${r.revision}${to}, hash ${r.config_hash}; changed: ${r.changed_keys.join(', ')}${unused.join('')}`;
}

/** `--reason` as given; an empty reason is bad input (the service requires 1..500 characters). */
/** The service's set request from CLI values and the shared `--reason` / `--expected-revision` flags. */
function setRequest(
  values: Record<string, string | null>,
  o: { reason?: string; expectedRevision?: string },
): ConfigSetRequest {
  return {
    values,
    ...reasonOf(o),
    ...(o.expectedRevision === undefined ? {} : { expected_revision: o.expectedRevision }),
  };
}

function reasonOf(o: { reason?: string }): { reason?: string } {
  if (o.reason === undefined) return {};
  if (o.reason.trim() === '') throw new CliUsageError('--reason must not be empty');
  return { reason: o.reason };
}

const shown = (v: unknown): string => (v === null || v === undefined ? '(unset)' : String(v));

export function registerConfig(program: Command): void {
  const cfg = program
    .command('config')
    .description('managed settings: effective values, revisions, set/unset, rollback (admin, audited)');
  const g = (): Global => program.opts<Global>();
  const fail = (e: unknown) => reportError(e, Boolean(g().json));

  cfg
    .command('get [KEY]')
    .description(
      'effective values with their source (flag, config:KEY@REV, env:KEY, default); one KEY: value and source',
    )
    .option('--prefix <prefix>', 'only keys starting with this prefix')
    .option('--var <var>', 'resolve variety-scoped keys for cu, au or ag')
    .action((key: string | undefined, o: { prefix?: string; var?: string }) =>
      withConfig(g(), async (service) => {
        if (key === undefined) {
          const view = await service.effective({
            ...(o.prefix ? { prefix: o.prefix } : {}),
            ...(o.var ? { var: o.var } : {}),
          });
          print(g().json, view, () =>
            [
              `revision ${view.revision}  hash ${view.config_hash}`,
              ...view.items.map(
                (i) =>
                  `${i.key.padEnd(48)} ${shown(i.value).padEnd(12)} ${i.source}${i.env_shadowed ? '  (env shadowed)' : ''}${i.unmanaged ? '  (unmanaged: config prune removes it)' : ''}${i.unused ? '  (not read yet)' : ''}`,
              ),
            ].join('\n'),
          );
          return;
        }
        if (o.prefix) throw new CliUsageError('--prefix cannot be combined with a KEY');
        const c = classifyConfigKey(key);
        if (c.kind === 'env_only') {
          throw new CliUsageError(
            `${key} is env-only: it is never stored in config revisions; set it in the environment`,
          );
        }
        if (c.kind === 'unmanaged') {
          const view = await service.effective({ prefix: key });
          const item = view.items.find((i) => i.key === key);
          if (!item) throw new CliUsageError(`${key} is not a managed config key (see \`ghtrader config schema\`)`);
          const out = { ...item, key_used: key, revision: view.revision, config_hash: view.config_hash };
          print(g().json, out, () => `${shown(item.value)}  (${item.source}; unmanaged: config prune removes it)`);
          return;
        }
        const keyVar = c.variety?.toLowerCase();
        if (keyVar && o.var && o.var.toLowerCase() !== keyVar) {
          throw new CliUsageError(`--var ${o.var} contradicts the scope of ${key}`);
        }
        const variety = keyVar ?? o.var;
        const view = await service.effective({ prefix: c.def.key, ...(variety ? { var: variety } : {}) });
        const item = view.items.find((i) => i.key === c.def.key && !i.unmanaged);
        if (!item) throw new Error(`the effective view has no item for ${c.def.key}`);
        let { value, source } = item;
        let keyUsed = source.startsWith('config:')
          ? source.slice('config:'.length, source.lastIndexOf('@'))
          : source.startsWith('env:')
            ? source.slice('env:'.length)
            : c.def.key;
        if (c.session) {
          // The effective view resolves variety scopes only; a session-scoped key resolves against the same head.
          const head = await service.getRevision(view.revision);
          const r = resolveConfig(
            c.def.key,
            { revision: head.revision, snapshot: head.snapshot, env: service.envFor(item) },
            { ...(variety ? { var: variety } : {}), session: c.session },
          );
          ({ value, source } = r);
          keyUsed = r.key_used;
        }
        const out = {
          ...item,
          key,
          value,
          source,
          key_used: keyUsed,
          revision: view.revision,
          config_hash: view.config_hash,
        };
        print(g().json, out, () => `${shown(value)}  (${source})`);
      }).catch(fail),
    );

  cfg
    .command('set <KEY=VALUE...>')
    .description(
      'set managed keys, all or nothing, as one new revision; an empty value (KEY=) is an error: remove a key with `config unset KEY`',
    )
    .option('--reason <text>', 'recorded with the revision and audit entry (default cli_set; api_set with --api)')
    .option('--expected-revision <n>', 'fail with config_revision_conflict (exit 1) unless the head is revision N')
    .action((assignments: string[], o: { reason?: string; expectedRevision?: string }) =>
      withConfig(g(), async (service) => {
        const r = await service.set(setRequest(parseAssignments(assignments), o));
        print(g().json, r, () => writeText(r));
      }).catch(fail),
    );

  cfg
    .command('unset <KEY...>')
    .description('remove managed keys from the config (they fall back to env or default), as one new revision')
    .option('--reason <text>', 'recorded with the revision and audit entry (default cli_set; api_set with --api)')
    .option('--expected-revision <n>', 'fail with config_revision_conflict (exit 1) unless the head is revision N')
    .action((keys: string[], o: { reason?: string; expectedRevision?: string }) =>
      withConfig(g(), async (service) => {
        const values: Record<string, null> = {};
        for (const k of keys) {
          if (k.includes('=')) throw new CliUsageError(`config unset takes KEY names, got ${JSON.stringify(k)}`);
          values[k] = null;
        }
        const r = await service.set(setRequest(values, o));
        print(g().json, r, () => writeText(r));
      }).catch(fail),
    );

  cfg
    .command('history')
    .description('revisions, newest first')
    .option('--limit <n>', 'page size (clamped to 1..500)', '30')
    .option('--cursor <cursor>', 'the next page (from a previous answer)')
    .action((o: { limit: string; cursor?: string }) =>
      withConfig(g(), async (service) => {
        const page = await service.history({ limit: o.limit, ...(o.cursor ? { cursor: o.cursor } : {}) });
        print(g().json, page, () =>
          [
            ...page.items.map(
              (r) =>
                `${String(r.revision).padStart(5)}  ${r.created_at}  ${r.action.padEnd(10)}  ${r.actor.name}  ${r.reason}${r.rollback_to === undefined ? '' : ` (rollback to ${r.rollback_to})`}  [${r.changed_keys.join(', ')}]`,
            ),
            ...(page.next_cursor ? [`next: --cursor ${page.next_cursor}`] : []),
          ].join('\n'),
        );
      }).catch(fail),
    );

  cfg
    .command('show <REV>')
    .description('one revision: metadata, per-key changes and the full snapshot')
    .action((rev: string) =>
      withConfig(g(), async (service) => {
        const r = await service.getRevision(revisionArg(rev));
        print(g().json, r, () =>
          [
            `revision ${r.revision}  ${r.created_at}  ${r.action}  by ${r.actor.name} (${r.role})  hash ${r.config_hash}`,
            `reason: ${r.reason}${r.rollback_to === undefined ? '' : `  (rollback to ${r.rollback_to})`}`,
            ...r.changes.map((ch) => `  changed ${ch.key}: ${shown(ch.before)} -> ${shown(ch.after)}`),
            'snapshot:',
            ...Object.keys(r.snapshot)
              .sort()
              .map((k) => `  ${k}=${r.snapshot[k]}`),
          ].join('\n'),
        );
      }).catch(fail),
    );

  cfg
    .command('diff <REV_A> <REV_B>')
    .description('per-key before (REV_A) / after (REV_B) between two revisions')
    .action((revA: string, revB: string) =>
      withConfig(g(), async (service) => {
        const a = await service.getRevision(revisionArg(revA, 'REV_A'));
        const b = await service.getRevision(revisionArg(revB, 'REV_B'));
        const changes = diffSnapshots(a.snapshot, b.snapshot);
        const out = {
          from: a.revision,
          to: b.revision,
          from_hash: a.config_hash,
          to_hash: b.config_hash,
          changes,
        };
        print(g().json, out, () =>
          changes.length === 0
            ? `revisions ${a.revision} and ${b.revision} hold the same snapshot (hash ${a.config_hash})`
            : changes.map((ch) => `${ch.key}: ${shown(ch.before)} -> ${shown(ch.after)}`).join('\n'),
        );
      }).catch(fail),
    );

  cfg
    .command('rollback <REV>')
    .description('a new revision whose snapshot equals REV (history is never rewritten)')
    .option('--reason <text>', 'recorded with the revision (default rollback_to:<REV>)')
    .option('--expected-revision <n>', 'fail with config_revision_conflict (exit 1) unless the head is revision N')
    .action((rev: string, o: { reason?: string; expectedRevision?: string }) =>
      withConfig(g(), async (service) => {
        const r = await service.rollback({
          revision: revisionArg(rev),
          ...reasonOf(o),
          ...(o.expectedRevision === undefined ? {} : { expected_revision: o.expectedRevision }),
        });
        print(g().json, r, () => writeText(r));
      }).catch(fail),
    );

  cfg
    .command('schema')
    .description('the managed key registry: type, default, bounds, scopes, live or restart')
    .action(() =>
      withConfig(g(), async (service) => {
        const items = await service.schema();
        print(g().json, { items }, () =>
          items
            .map(
              (i) =>
                `${i.key.padEnd(48)} ${i.type.padEnd(6)} default ${shown(i.default).padEnd(8)} ${i.expected}${i.scopes.length > 0 ? `  scopes: ${i.scopes.join(',')}` : ''}${i.apply === 'restart' ? '  (restart)' : ''}${i.unused ? `  (not read yet: ${i.unused})` : ''}`,
            )
            .join('\n'),
        );
      }).catch(fail),
    );

  cfg
    .command('import-env')
    .description("store every managed key set in this process's environment as one revision")
    .option('--reason <text>', 'recorded with the revision (default import_env)')
    .action((o: { reason?: string }) =>
      withConfigService(g().home, async ({ service, caller }) => {
        const r = await service.importEnv(caller, reasonOf(o).reason ?? 'import_env');
        print(g().json, r, () => writeText(r));
      }).catch(fail),
    );

  cfg
    .command('prune')
    .description('remove keys that are no longer managed (retired or unknown) from the config')
    .option('--reason <text>', 'recorded with the revision (default prune)')
    .action((o: { reason?: string }) =>
      withConfigService(g().home, async ({ service, caller }) => {
        const r = await service.prune(caller, reasonOf(o).reason ?? 'prune');
        print(g().json, r, () => writeText(r));
      }).catch(fail),
    );

  // `import-env` (this process's environment) and `prune` have no API route: they refuse `--api`.
  const viaApi = new Set(['get', 'set', 'unset', 'history', 'show', 'diff', 'rollback', 'schema']);
  allowApi(...cfg.commands.filter((c) => viaApi.has(c.name())));
}

/**
 * `ghtrader users add|list|set-role|disable|enable` (control-chain §2, §11): the API's `AuthService` called directly
 * with the running stack's store credentials as `cli:<os-user>@<host>` (role admin, audit actor type `cli`), so the
 * username and password rules, messages and audit entries are those of `/api/users`. A password is never a command-line
 * argument (shell history, `ps`): `--password-stdin` reads it from a pipe, otherwise a strong one is generated and
 * printed once. Output never holds a password hash. `withIdentity` is shared with `ghtrader tokens`.
 *
 * With `--api URL` (an admin's `GHTRADER_API_TOKEN`) the same commands use `/api/users` and `/api/auth/tokens`
 * (`IdentitySource`): `set-role`, `disable` and `enable` find the user's id by paging `GET /api/users`, then
 * `PATCH /api/users/:id`. The audit entries then name the token, as for any API caller.
 */
import { randomBytes } from 'node:crypto';
import { type Command, Option } from 'commander';
import * as z from 'zod';
import { PasswordSchema, type PublicToken, type PublicUser, UsernameSchema } from '#shared/domain/control/auth.ts';
import { newSecret } from '#shared/domain/control/auth-secrets.ts';
import { ROLES } from '#shared/domain/control/roles.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { NotFoundError } from '#shared/errors/control.ts';
import { DynamoAuditLog } from '#shared/infra/aws/audit-log.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { AuthService, type Caller, type CreatedToken, type ListResult } from '#shared/services/auth-service.ts';
import { type ApiClient, allowApi, apiClient, seg } from '../api-client.ts';
import { CliUsageError, reportError, withCliStores } from '../cli-support.ts';

export interface Global {
  home?: string;
  json?: boolean;
  api?: string;
}

type Body = Record<string, unknown>;
type ListQuery = { limit?: string; cursor?: string };

/**
 * Where `users` and `tokens` get their answers: the AuthService on the stack's Users and Audit tables (as the CLI
 * caller, admin), or the HTTP API (`--api`) as the token's owner.
 */
export interface IdentitySource {
  createUser(body: Body): Promise<PublicUser>;
  listUsers(query: ListQuery): Promise<ListResult<PublicUser>>;
  /** Set role and/or disabled of the user called `username`. */
  updateUser(username: string, body: Body): Promise<PublicUser>;
  /** `body.owner` names the user the token acts for (required directly: the CLI has no user of its own). */
  createToken(body: Body): Promise<CreatedToken>;
  listTokens(query: ListQuery): Promise<ListResult<PublicToken>>;
  revokeToken(id: string): Promise<PublicToken>;
}

function storeIdentity({ auth, caller, userIdOf }: IdentityCli): IdentitySource {
  return {
    createUser: (body) => auth.createUser(caller, body),
    listUsers: (query) => auth.listUsers(caller, query),
    updateUser: async (username, body) => auth.updateUser(caller, await userIdOf(username), body),
    createToken: (body) => auth.createToken(caller, body),
    listTokens: (query) => auth.listTokens(caller, query),
    revokeToken: (id) => auth.revokeToken(caller, id),
  };
}

/** `GET /api/users` pages read to find one username (the API addresses users by id). */
const USER_LOOKUP_PAGE = '500';

function apiIdentity(api: ApiClient): IdentitySource {
  const userIdOf = async (username: string): Promise<string> => {
    let cursor: string | null = null;
    do {
      const page: ListResult<PublicUser> = await api.get<ListResult<PublicUser>>('/api/users', {
        limit: USER_LOOKUP_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      const hit = page.items.find((u) => u.username === username);
      if (hit) return hit.id;
      cursor = page.next_cursor;
    } while (cursor);
    throw new NotFoundError('user', username);
  };
  return {
    createUser: async (body) => (await api.post<{ user: PublicUser }>('/api/users', body)).user,
    listUsers: (query) => api.get<ListResult<PublicUser>>('/api/users', query),
    updateUser: async (username, body) =>
      (await api.patch<{ user: PublicUser }>(`/api/users/${seg(await userIdOf(username))}`, body)).user,
    createToken: (body) => api.post<CreatedToken>('/api/auth/tokens', body),
    listTokens: (query) => api.get<ListResult<PublicToken>>('/api/auth/tokens', query),
    revokeToken: async (id) => (await api.post<{ token: PublicToken }>(`/api/auth/tokens/${seg(id)}/revoke`, {})).token,
  };
}

/** Run `fn` with the identities of the stack under `--home` (`withIdentity`), or of the API at `--api`. */
export function withIdentities<T>(g: Global, fn: (src: IdentitySource) => Promise<T>): Promise<T> {
  if (g.api !== undefined) return fn(apiIdentity(apiClient(g.api)));
  return withIdentity(g.home, (c) => fn(storeIdentity(c)));
}

export interface IdentityCli {
  auth: AuthService;
  caller: Caller;
  /** The user id behind a username (the service addresses users by id, as `PATCH /api/users/:id` does). */
  userIdOf(username: string): Promise<string>;
}

/**
 * Attach to the stack under `--home`, build the `AuthService` on its Users and Audit tables and run `fn` as the CLI
 * caller. Audit entries the command stores are published on `audit:updates` afterwards (`withCliStores`).
 */
export function withIdentity<T>(home: string | undefined, fn: (c: IdentityCli) => Promise<T>): Promise<T> {
  return withCliStores(home, ({ config, log, clients, cursorSecret, caller, publish }) => {
    const users = new DynamoUserStore(clients.doc, config.tables.users);
    const auth = new AuthService({
      users,
      audit: new DynamoAuditLog(clients.doc, config.tables.audit, systemClock, ulidGen, (entry) =>
        publish('audit:updates', entry),
      ),
      clock: systemClock,
      ids: ulidGen,
      log: log.child({ component: 'auth' }),
      limits: config.auth,
      cursorSecret,
    });
    const userIdOf = async (username: string): Promise<string> => {
      const id = await users.userIdForUsername(username);
      if (!id) throw new NotFoundError('user', username);
      return id;
    };
    return fn({ auth, caller, userIdOf });
  });
}

/**
 * Parse command flags and arguments with `schema`, whose keys are their command-line names (`--role`, `<username>`):
 * the first issue exits 2 as `<name>: <message>`.
 */
export function parseFlags<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const name = issue && issue.path.length > 0 ? String(issue.path[0]) : 'arguments';
  throw new CliUsageError(`${name}: ${issue?.message ?? 'invalid'}`);
}

/** A role flag or argument: one of viewer, operator, admin (required). */
export const roleArg = z.enum(ROLES, {
  error: (iss) =>
    iss.input === undefined
      ? `required (one of ${ROLES.join(', ')})`
      : `expected one of ${ROLES.join(', ')}, got ${JSON.stringify(iss.input)}`,
});

/** A username: the service's own rule (trimmed, lowercased, 3 to 32 of a-z 0-9 _ . -). */
export const usernameArg = z.string({ error: 'required' }).pipe(UsernameSchema);

/** `--limit` / `--cursor` of the list commands; the service clamps the limit to 1..500. */
export const listFlags = z
  .object({
    '--limit': z.string().regex(/^\d+$/, 'expected a whole number (it is clamped to 1..500)').optional(),
    '--cursor': z.string().min(1, 'must not be empty').max(2000, 'is too long').optional(),
  })
  .transform((o) => ({
    ...(o['--limit'] === undefined ? {} : { limit: o['--limit'] }),
    ...(o['--cursor'] === undefined ? {} : { cursor: o['--cursor'] }),
  }));

/**
 * `<parent> list [--limit N] [--cursor C]`: one page from the service, printed as JSON or one line per item plus the
 * next page's `--cursor` (`users list`, `tokens list`).
 */
export function listCommand<T>(
  parent: Command,
  program: Command,
  o: {
    description: string;
    empty: string;
    load: (
      src: IdentitySource,
      query: z.infer<typeof listFlags>,
    ) => Promise<{ items: T[]; next_cursor: string | null }>;
    line: (item: T) => string;
  },
): void {
  const json = () => Boolean(program.opts<Global>().json);
  const list = parent
    .command('list')
    .description(o.description)
    .option('--limit <n>', 'page size (clamped to 1..500, default 100)')
    .option('--cursor <cursor>', 'the next page (from a previous answer)')
    .action(async (flags: { limit?: string; cursor?: string }) => {
      try {
        const query = parseFlags(listFlags, { '--limit': flags.limit, '--cursor': flags.cursor });
        await withIdentities(program.opts<Global>(), async (src) => {
          const page = await o.load(src, query);
          print(json(), page, () =>
            [
              ...(page.items.length === 0 ? [o.empty] : page.items.map(o.line)),
              ...(page.next_cursor ? [`next: --cursor ${page.next_cursor}`] : []),
            ].join('\n'),
          );
        });
      } catch (e) {
        reportError(e, json());
      }
    });
  allowApi(list);
}

export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

const USERS_ADD_STDIN_HINT =
  '--password-stdin reads the password from a pipe, e.g. `printf \'%s\' "$PW" | ghtrader users add NAME --role R --password-stdin`; without it a strong password is generated and printed once';

/**
 * The whole of stdin: one trailing newline (`echo`, a heredoc) is not part of the password. A terminal on stdin is
 * refused with `ttyHint` (how to pipe it), so a password never has to be typed where it echoes.
 */
export async function readPasswordFromStdin(ttyHint: string = USERS_ADD_STDIN_HINT): Promise<string> {
  if (process.stdin.isTTY) throw new CliUsageError(ttyHint);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const userLine = (u: PublicUser) =>
  `${u.username.padEnd(20)} ${u.role.padEnd(8)} ${(u.disabled ? 'disabled' : 'active').padEnd(8)}  created ${u.created_at}  last login ${u.last_login_at ?? 'never'}  id ${u.id}`;

export function registerUsers(program: Command): void {
  const users = program
    .command('users')
    .description('console users: add, list, set a role, disable or enable (admin, audited as cli:<user>@<host>)');
  const g = (): Global => program.opts<Global>();
  const fail = (e: unknown) => reportError(e, Boolean(g().json));

  const add = users
    .command('add <username>')
    .description(
      'create a user; the password comes from stdin with --password-stdin, else a strong one is generated and printed once',
    )
    .option('--role <role>', `${ROLES.join(' | ')} (required)`)
    .option('--password-stdin', 'read the password (at least 12 characters) from stdin instead of generating one')
    // Only to answer a habitual `--password X` with the reason and the alternative (commander would say "unknown").
    .addOption(new Option('--password <password>').hideHelp())
    .action(async (username: string, o: { role?: string; passwordStdin?: boolean; password?: string }) => {
      try {
        if (o.password !== undefined) {
          throw new CliUsageError(
            '--password is not accepted: a password on the command line lands in shell history and `ps`; pipe it with --password-stdin, or omit both to get a generated one',
          );
        }
        const flags = parseFlags(z.object({ '<username>': usernameArg, '--role': roleArg }), {
          '<username>': username,
          '--role': o.role,
        });
        const generated = !o.passwordStdin;
        const password = generated
          ? newSecret(randomBytes)
          : parseFlags(z.object({ '--password-stdin': PasswordSchema }), {
              '--password-stdin': await readPasswordFromStdin(),
            })['--password-stdin'];
        await withIdentities(g(), async (src) => {
          const user = await src.createUser({
            username: flags['<username>'],
            password,
            role: flags['--role'],
          });
          print(
            g().json,
            generated ? { user, password, password_generated: true } : { user, password_generated: false },
            () =>
              [
                `created user ${user.username} (role ${user.role}, id ${user.id})`,
                ...(generated
                  ? [`generated password, shown only this once (store it now): ${password}`]
                  : ['password: as read from stdin']),
              ].join('\n'),
          );
        });
      } catch (e) {
        fail(e);
      }
    });

  listCommand(users, program, {
    description: 'users, newest first (never their password hashes)',
    empty: '(no users)',
    load: (src, query) => src.listUsers(query),
    line: userLine,
  });

  /** Validate the username, then set role and/or disabled through the service (`PATCH /api/users/:id`). */
  const update = async (username: string, body: () => { role?: string; disabled?: boolean }) => {
    try {
      const name = parseFlags(z.object({ '<username>': usernameArg }), { '<username>': username })['<username>'];
      const changes = body();
      await withIdentities(g(), async (src) => {
        const user = await src.updateUser(name, changes);
        print(
          g().json,
          { user },
          () => `${user.username}: role ${user.role}, ${user.disabled ? 'disabled' : 'active'} (id ${user.id})`,
        );
      });
    } catch (e) {
      fail(e);
    }
  };

  const setRole = users
    .command('set-role <username> <role>')
    .description(`set a user's role (${ROLES.join(', ')}); sessions and tokens follow within 30 s`)
    .action((username: string, role: string) =>
      update(username, () => ({ role: parseFlags(z.object({ '<role>': roleArg }), { '<role>': role })['<role>'] })),
    );

  const disable = users
    .command('disable <username>')
    .description('disable a user: logins fail at once, sessions and tokens stop working within 30 s')
    .action((username: string) => update(username, () => ({ disabled: true })));

  const enable = users
    .command('enable <username>')
    .description('re-enable a disabled user')
    .action((username: string) => update(username, () => ({ disabled: false })));

  allowApi(add, setRole, disable, enable);
}

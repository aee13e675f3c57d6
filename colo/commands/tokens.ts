/**
 * `ghtrader tokens create|list|revoke` (control-chain §2, §11): API tokens (`Authorization: Bearer ght_<id>_<secret>`)
 * through the API's `AuthService`, as `cli:<os-user>@<host>` (role admin, audit actor type `cli`), so the token rules
 * and audit entries are those of `/api/auth/tokens`. The CLI has no user of its own, so a token names its owner; its
 * effective role is the lower of its own and the owner's current role. The plaintext is printed once; only the SHA-256
 * of the secret is stored, and no hash is ever printed.
 *
 * With `--api URL` the same commands use `/api/auth/tokens` as the owner of `GHTRADER_API_TOKEN` (`IdentitySource`):
 * `--owner` may then be left out (the token's own user, from `/api/auth/me`); naming another user needs an admin
 * token, as on the console.
 */
import type { Command } from 'commander';
import * as z from 'zod';
import { TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS } from '#shared/domain/control/auth.ts';
import { ROLES } from '#shared/domain/control/roles.ts';
import { allowApi, apiClient } from '../api-client.ts';
import { CliUsageError, reportError } from '../cli-support.ts';
import { type Global, listCommand, parseFlags, print, roleArg, usernameArg, withIdentities } from './users.ts';

/** Who a token acts for when `--owner` is left out: the API token's own user (`--api`); directly, nobody. */
async function defaultOwner(g: Global): Promise<string> {
  if (g.api === undefined) {
    throw new CliUsageError(
      '--owner: required (the username the token acts for: the CLI has no user of its own; see `ghtrader users list`)',
    );
  }
  const me = await apiClient(g.api).get<{ user: { username: string | null } }>('/api/auth/me');
  if (!me.user.username) throw new CliUsageError('--owner: required (the API token has no user of its own)');
  return me.user.username;
}

const CreateFlagsSchema = z.object({
  '--name': z
    .string({ error: 'required (a label for the token, e.g. its CI job)' })
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'expected at most 100 characters'),
  '--role': roleArg,
  '--owner': usernameArg.optional(),
  '--expires-in-days': z
    .string()
    .regex(/^\d+$/, `expected a whole number of days, 1..${TOKEN_MAX_DAYS}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, `expected 1..${TOKEN_MAX_DAYS} days`)
        .max(TOKEN_MAX_DAYS, `expected 1..${TOKEN_MAX_DAYS} days`),
    )
    .default(TOKEN_DEFAULT_DAYS),
});

/** A token's lookup id: 10 characters of a-z and 2-7 (`ght_<id>_…`, the id column of `tokens list`). */
const TokenIdSchema = z
  .string()
  .regex(
    /^[a-z2-7]{10}$/,
    'expected the 10-character token id (the id column of `ghtrader tokens list`, never the token itself)',
  );

export function registerTokens(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('API tokens for quants and CI: create, list, revoke (admin, audited as cli:<user>@<host>)');
  const g = (): Global => program.opts<Global>();
  const fail = (e: unknown) => reportError(e, Boolean(g().json));

  const create = tokens
    .command('create')
    .description('create an API token for a user; the token is printed only this once')
    .option('--name <name>', 'a label (1..100 characters)')
    .option('--role <role>', `${ROLES.join(' | ')}; the token acts with the lower of this and its owner's role`)
    .option(
      '--owner <username>',
      "the user the token belongs to (required directly: the CLI has no user of its own; with --api, default the API token's user)",
    )
    .option('--expires-in-days <days>', `1..${TOKEN_MAX_DAYS} (default ${TOKEN_DEFAULT_DAYS})`)
    .action(async (o: { name?: string; role?: string; owner?: string; expiresInDays?: string }) => {
      try {
        const flags = parseFlags(CreateFlagsSchema, {
          '--name': o.name,
          '--role': o.role,
          '--owner': o.owner,
          '--expires-in-days': o.expiresInDays,
        });
        const owner = flags['--owner'] ?? (await defaultOwner(g()));
        await withIdentities(g(), async (src) => {
          const created = await src.createToken({
            name: flags['--name'],
            role: flags['--role'],
            expires_in_days: flags['--expires-in-days'],
            owner,
          });
          const out = { ...created, owner };
          print(g().json, out, () =>
            [
              `created token ${created.id} "${created.name}" (role ${created.role}, owner ${out.owner}, expires ${created.expires_at})`,
              `token, shown only this once (store it now): ${created.token}`,
            ].join('\n'),
          );
        });
      } catch (e) {
        fail(e);
      }
    });

  listCommand(tokens, program, {
    description: 'every token with its state (active, expired, revoked), newest first; never a secret or hash',
    empty: '(no tokens)',
    load: (src, query) => src.listTokens(query),
    line: (t) =>
      `${t.id}  ${t.state.padEnd(7)}  ${t.role.padEnd(8)}  ${t.owner_username.padEnd(20)}  expires ${t.expires_at}  last used ${t.last_used_at ?? 'never'}  ${t.name}`,
  });

  const revoke = tokens
    .command('revoke <id>')
    .description('revoke a token by its id (idempotent: the first revocation time is kept)')
    .action(async (id: string) => {
      try {
        const tokenId = parseFlags(z.object({ '<id>': TokenIdSchema }), { '<id>': id })['<id>'];
        await withIdentities(g(), async (src) => {
          const token = await src.revokeToken(tokenId);
          print(
            g().json,
            { token },
            () =>
              `revoked token ${token.id} "${token.name}" (owner ${token.owner_username}) at ${token.revoked_at ?? '?'}`,
          );
        });
      } catch (e) {
        fail(e);
      }
    });

  allowApi(create, revoke);
}

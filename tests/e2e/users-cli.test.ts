/**
 * `ghtrader users …` and `ghtrader tokens …` against one running `ghtrader up --no-demo --no-sim` (control-chain §2,
 * §9, §11): users made by the CLI log in through `POST /api/auth/login`, role changes and disables reach the API,
 * tokens work as bearers until revoked, bad flags exit 2 naming the flag, and every action is audited with actor type
 * `cli`, exactly as the API's own `AuthService` records it. With `--api`, the same commands work through the HTTP API
 * as the owner of an admin token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiCli,
  type CliRun,
  ConsoleClient,
  createApiToken,
  explain,
  homeCli,
  lastJson,
  type RunningStack,
  startLoggedIn,
  stopSuite,
  until,
} from './support/ghtrader-process.ts';

interface User {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
}

interface AuditItem {
  actor: { type: string; id: string; name: string };
  role: string;
  action: string;
  target: string;
  outcome: string;
  before: unknown;
  after: unknown;
}

const PASSWORD = 'e2e correct horse battery';

const json = (r: CliRun) => lastJson(r);

describe('ghtrader users / tokens against a running stack', () => {
  let home: string;
  let stack: RunningStack;
  let admin: ConsoleClient;

  const { cli, cliInput } = homeCli(() => home);

  /** The audit entries of `action` on `target`, once the API lists at least one. */
  const audited = (action: string, target: string): Promise<AuditItem[]> =>
    until(
      async () => {
        const r = await admin.request(
          'GET',
          `/api/audit?action=${encodeURIComponent(action)}&target=${encodeURIComponent(target)}`,
        );
        const items = (r.json as { items?: AuditItem[] } | null)?.items ?? [];
        return items.length > 0 ? items : null;
      },
      5_000,
      `audit ${action} ${target}`,
    );

  const expectCliActor = (e: AuditItem | undefined) => {
    expect(e?.actor.type).toBe('cli');
    expect(e?.actor.name).toMatch(/^cli:.+@.+$/);
    expect(e?.role).toBe('admin');
    expect(e?.outcome).toBe('ok');
  };

  beforeAll(async () => {
    ({ home, stack, admin } = await startLoggedIn('users', ['--no-demo', '--no-sim'], 30_000));
  }, 40_000);
  afterAll(() => stopSuite(stack, home));

  it('adds users with a generated password shown once or a piped one, both of which log in; a duplicate is refused', async () => {
    // Act
    const [generated, piped] = await Promise.all([
      cli(['users', 'add', 'gen-user', '--role', 'viewer']),
      cliInput(['users', 'add', 'Quant', '--role', 'operator', '--password-stdin', '--json'], `${PASSWORD}\n`),
    ]);
    const duplicate = await cliInput(
      ['users', 'add', 'quant', '--role', 'viewer', '--password-stdin', '--json'],
      `${PASSWORD}\n`,
    );
    const apiDuplicate = await admin.request('POST', '/api/users', {
      username: 'quant',
      password: PASSWORD,
      role: 'viewer',
    });
    const generatedPassword = /shown only this once \(store it now\): (\S+)$/m.exec(generated.stdout)?.[1] ?? '';
    const genSession = new ConsoleClient(stack.banner.url);
    const quantSession = new ConsoleClient(stack.banner.url);
    const [genLogin, quantLogin] = await Promise.all([
      genSession.login('gen-user', generatedPassword),
      quantSession.login('quant', PASSWORD),
    ]);
    const me = await quantSession.request('GET', '/api/auth/me');
    const createAudit = await audited('user.create', 'user:quant');

    // Assert
    expect(generated.code, explain(generated)).toBe(0);
    expect(generated.stdout).toMatch(/^created user gen-user \(role viewer, id \S+\)$/m);
    expect(generatedPassword.length).toBeGreaterThanOrEqual(32);
    expect(generated.stdout.split(generatedPassword)).toHaveLength(2);
    expect(generated.stderr).not.toContain(generatedPassword);
    expect(genLogin).toBe(200);
    expect(piped.code, explain(piped)).toBe(0);
    expect(json(piped)).toEqual({
      user: {
        id: expect.any(String),
        username: 'quant',
        role: 'operator',
        disabled: false,
        created_at: expect.stringMatching(/Z$/),
        last_login_at: null,
      },
      password_generated: false,
    });
    expect(piped.stdout).not.toContain(PASSWORD);
    expect(quantLogin).toBe(200);
    expect(me.json).toMatchObject({ user: { username: 'quant', role: 'operator' } });
    expect(duplicate.code, explain(duplicate)).toBe(2);
    expect(json(duplicate)).toMatchObject({
      error: { code: 'validation_failed', message: 'username "quant" is taken' },
    });
    expect(apiDuplicate.status).toBe(400);
    expect((apiDuplicate.json as { error: { message: string } }).error.message).toBe('username "quant" is taken');
    expect(createAudit).toHaveLength(1);
    expectCliActor(createAudit[0]);
    expect(createAudit[0]?.after).toMatchObject({ username: 'quant', role: 'operator' });
    expect(JSON.stringify(createAudit)).not.toContain(PASSWORD);
  });

  it('lists users without hashes, sets a role the API then reports, and disables and re-enables a login', async () => {
    // Prepare
    const add = await cliInput(['users', 'add', 'ops-user', '--role', 'viewer', '--password-stdin'], PASSWORD);
    expect(add.code, explain(add)).toBe(0);

    // Act
    const [list, listText] = await Promise.all([cli(['users', 'list', '--json']), cli(['users', 'list'])]);
    const setRole = await cli(['users', 'set-role', 'ops-user', 'operator', '--json']);
    const apiUsers = await admin.request('GET', '/api/users');
    const session = new ConsoleClient(stack.banner.url);
    const loginAfterRole = await session.login('ops-user', PASSWORD);
    const me = await session.request('GET', '/api/auth/me');
    const disable = await cli(['users', 'disable', 'ops-user']);
    const loginDisabled = await new ConsoleClient(stack.banner.url).login('ops-user', PASSWORD);
    const enable = await cli(['users', 'enable', 'ops-user', '--json']);
    const loginEnabled = await new ConsoleClient(stack.banner.url).login('ops-user', PASSWORD);
    const updates = await until(
      async () => {
        const items = await audited('user.update', 'user:ops-user');
        return items.length >= 3 ? items : null;
      },
      5_000,
      'three user.update entries',
    );

    // Assert
    expect(list.code, explain(list)).toBe(0);
    const items = json(list).items as User[];
    expect(items.find((u) => u.username === 'ops-user')).toMatchObject({ role: 'viewer', disabled: false });
    expect(items.map((u) => u.username)).toEqual(expect.arrayContaining(['admin', 'ops-user']));
    expect(list.stdout).not.toMatch(/password|hash|scrypt/i);
    expect(listText.code, explain(listText)).toBe(0);
    expect(listText.stdout).toMatch(/^ops-user\s+viewer\s+active\s/m);
    expect(setRole.code, explain(setRole)).toBe(0);
    expect(json(setRole)).toMatchObject({ user: { username: 'ops-user', role: 'operator', disabled: false } });
    expect((apiUsers.json as { items: User[] }).items.find((u) => u.username === 'ops-user')?.role).toBe('operator');
    expect(loginAfterRole).toBe(200);
    expect(me.json).toMatchObject({ user: { username: 'ops-user', role: 'operator' } });
    expect(disable.code, explain(disable)).toBe(0);
    expect(disable.stdout).toMatch(/^ops-user: role operator, disabled \(id \S+\)$/m);
    expect(loginDisabled).toBe(401);
    expect(enable.code, explain(enable)).toBe(0);
    expect(json(enable)).toMatchObject({ user: { username: 'ops-user', disabled: false } });
    expect(loginEnabled).toBe(200);
    for (const e of updates) expectCliActor(e);
    expect(updates.map((e) => e.after)).toEqual(
      expect.arrayContaining([
        { role: 'operator', disabled: false },
        { role: 'operator', disabled: true },
      ]),
    );
  });

  it('creates a token that works as a bearer, lists it without its secret, and revokes it (then 401)', async () => {
    // Prepare
    const add = await cliInput(['users', 'add', 'ci-owner', '--role', 'operator', '--password-stdin'], PASSWORD);
    expect(add.code, explain(add)).toBe(0);

    // Act
    const [created, createdText] = await Promise.all([
      cli(['tokens', 'create', '--name', 'ci', '--role', 'viewer', '--owner', 'ci-owner', '--json']),
      cli([
        'tokens',
        'create',
        '--name',
        'ci text',
        '--role',
        'viewer',
        '--owner',
        'ci-owner',
        '--expires-in-days',
        '7',
      ]),
    ]);
    const token = String(json(created).token);
    const id = String(json(created).id);
    const bearer = admin.withBearer(token);
    const before = await bearer.request('GET', '/api/status');
    const [list, listText] = await Promise.all([cli(['tokens', 'list', '--json']), cli(['tokens', 'list'])]);
    const revoke = await cli(['tokens', 'revoke', id, '--json']);
    const after = await until(
      async () => {
        const r = await bearer.request('GET', '/api/status');
        return r.status === 401 ? r : null;
      },
      5_000,
      'the revoked token to be refused',
    );
    const listAfter = await cli(['tokens', 'list', '--json']);
    const [createAudit, revokeAudit] = await Promise.all([
      audited('auth.token_create', `token:${id}`),
      audited('auth.token_revoke', `token:${id}`),
    ]);

    // Assert
    expect(created.code, explain(created)).toBe(0);
    expect(json(created)).toMatchObject({ name: 'ci', role: 'viewer', owner: 'ci-owner' });
    expect(token).toMatch(new RegExp(`^ght_${id}_[A-Za-z0-9_-]{43}$`));
    expect(createdText.code, explain(createdText)).toBe(0);
    expect(createdText.stdout).toMatch(
      /^created token [a-z2-7]{10} "ci text" \(role viewer, owner ci-owner, expires /m,
    );
    expect(createdText.stdout).toMatch(/^token, shown only this once \(store it now\): ght_[a-z2-7]{10}_\S{43}$/m);
    expect(before.status, before.text).toBe(200);
    expect(list.code, explain(list)).toBe(0);
    const listed = (json(list).items as Record<string, unknown>[]).find((t) => t.id === id);
    expect(listed).toMatchObject({ name: 'ci', role: 'viewer', owner_username: 'ci-owner', state: 'active' });
    expect(list.stdout).not.toContain(token.slice(15));
    expect(list.stdout).not.toMatch(/secret|sha256|hash/i);
    expect(listText.stdout).toMatch(new RegExp(`^${id}\\s+active\\s+viewer\\s+ci-owner\\s`, 'm'));
    expect(revoke.code, explain(revoke)).toBe(0);
    expect(json(revoke)).toMatchObject({ token: { id, state: 'revoked', revoked_at: expect.stringMatching(/Z$/) } });
    expect(after.status).toBe(401);
    expect((json(listAfter).items as Record<string, unknown>[]).find((t) => t.id === id)?.state).toBe('revoked');
    expectCliActor(createAudit[0]);
    expect(createAudit[0]?.after).toMatchObject({ id, owner: 'ci-owner', role: 'viewer' });
    expect(JSON.stringify(createAudit)).not.toContain(token.slice(15));
    expectCliActor(revokeAudit[0]);
  });

  it('adds, lists, changes users and creates, lists and revokes tokens through the API as an admin token', async () => {
    // Prepare: an admin and an operator token; the API mode has no store credentials
    const [adminToken, operatorToken] = await Promise.all([
      createApiToken(admin, 'e2e-users-admin', 'admin'),
      createApiToken(admin, 'e2e-users-operator', 'operator'),
    ]);
    const viaApi = (args: string[], token = adminToken) =>
      apiCli({ url: stack.banner.url, token, home }, [...args, '--json']);
    const bearerMe = async (token: string) =>
      (
        await fetch(`${stack.banner.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })
      ).json() as Promise<{ user: { username: string; role: string } }>;

    // Act
    const add = await apiCli(
      { url: stack.banner.url, token: adminToken, home },
      ['users', 'add', 'api-made', '--role', 'viewer', '--password-stdin', '--json'],
      PASSWORD,
    );
    const [listApi, listDirect, setRole, refused, missing] = await Promise.all([
      viaApi(['users', 'list', '--limit', '500']),
      cli(['users', 'list', '--limit', '500', '--json']),
      viaApi(['users', 'set-role', 'api-made', 'operator']),
      viaApi(['users', 'list'], operatorToken),
      viaApi(['users', 'disable', 'nobody-here']),
    ]);
    const disabled = await viaApi(['users', 'disable', 'api-made']);
    const enabled = await viaApi(['users', 'enable', 'api-made']);
    const [forUser, mine] = await Promise.all([
      viaApi(['tokens', 'create', '--name', 'for-api-made', '--role', 'viewer', '--owner', 'api-made']),
      viaApi(['tokens', 'create', '--name', 'mine', '--role', 'viewer']),
    ]);
    const created = json(forUser) as { id: string; token: string; owner: string };
    const tokens = await viaApi(['tokens', 'list', '--limit', '500']);
    const meBefore = await bearerMe(created.token);
    const revoked = await viaApi(['tokens', 'revoke', created.id]);
    const meAfter = await fetch(`${stack.banner.url}/api/auth/me`, {
      headers: { authorization: `Bearer ${created.token}` },
    });

    // Assert: users
    expect(add.code, explain(add)).toBe(0);
    expect(json(add)).toMatchObject({ user: { username: 'api-made', role: 'viewer' }, password_generated: false });
    expect(listApi.code, explain(listApi)).toBe(0);
    const names = (r: CliRun) => (json(r) as { items: User[] }).items.map((u) => u.username);
    expect(names(listApi)).toEqual(names(listDirect));
    expect(names(listApi)).toContain('api-made');
    expect(setRole.code, explain(setRole)).toBe(0);
    expect(json(setRole)).toMatchObject({ user: { username: 'api-made', role: 'operator', disabled: false } });
    expect(refused.code, explain(refused)).toBe(2);
    expect(json(refused)).toMatchObject({ error: { code: 'forbidden' } });
    expect(missing.code, explain(missing)).toBe(2);
    expect(json(missing)).toMatchObject({ error: { code: 'not_found' } });
    expect(json(disabled)).toMatchObject({ user: { disabled: true } });
    expect(json(enabled)).toMatchObject({ user: { disabled: false } });
    // Assert: tokens (another user's needs the admin token; without --owner, the token's own user)
    expect(forUser.code, explain(forUser)).toBe(0);
    expect(created.owner).toBe('api-made');
    expect(meBefore.user).toMatchObject({ username: 'api-made', role: 'viewer' });
    expect(mine.code, explain(mine)).toBe(0);
    expect((json(mine) as { owner: string }).owner).toBe((await bearerMe(adminToken)).user.username);
    const listed = (json(tokens) as { items: { id: string; owner_username: string }[] }).items;
    expect(listed.find((t) => t.id === created.id)).toMatchObject({ owner_username: 'api-made' });
    expect(revoked.code, explain(revoked)).toBe(0);
    expect(json(revoked)).toMatchObject({ token: { id: created.id, state: 'revoked' } });
    expect(meAfter.status).toBe(401);
    for (const r of [add, listApi, setRole, forUser, tokens, revoked]) {
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(r.stdout + r.stderr).not.toContain(adminToken);
    }
  });

  it('refuses bad flags and arguments with exit 2 naming the flag, and changes nothing', async () => {
    // Prepare
    const listUsers = async () => ((await admin.request('GET', '/api/users')).json as { items: User[] }).items;
    const usersBefore = await listUsers();

    // Act
    const runs = await Promise.all([
      cli(['users', 'add', 'no-role']),
      cli(['users', 'add', 'bad-role', '--role', 'root']),
      cli(['users', 'add', 'x', '--role', 'viewer']),
      cli(['users', 'add', 'argv-pass', '--role', 'viewer', '--password', 'hunter2hunter2']),
      cliInput(['users', 'add', 'short-pass', '--role', 'viewer', '--password-stdin', '--json'], 'short\n'),
      cli(['users', 'set-role', 'gen-user', 'boss']),
      cli(['users', 'disable', 'nobody-here']),
      cli(['users', 'list', '--limit', 'abc']),
      cli(['tokens', 'create', '--name', 'ci', '--role', 'viewer']),
      cli(['tokens', 'create', '--name', 'ci', '--role', 'viewer', '--owner', 'quant', '--expires-in-days', '400']),
      cli(['tokens', 'revoke', 'ght_abc']),
    ]);
    const usersAfter = await listUsers();

    // Assert
    const [noRole, badRole, badName, argvPass, shortPass, badSetRole, unknownUser, badLimit, noOwner, badDays, badId] =
      runs;
    for (const r of runs) expect(r?.code, explain(r as CliRun)).toBe(2);
    expect(noRole?.stderr).toBe('ghtrader: --role: required (one of viewer, operator, admin)\n');
    expect(badRole?.stderr).toBe('ghtrader: --role: expected one of viewer, operator, admin, got "root"\n');
    expect(badName?.stderr).toContain('ghtrader: <username>: expected 3 to 32 characters');
    expect(argvPass?.stderr).toContain('--password is not accepted');
    expect(argvPass?.stderr).not.toContain('hunter2hunter2');
    expect(json(shortPass as CliRun)).toEqual({
      error: { code: 'bad_input', message: '--password-stdin: expected at least 12 characters', details: {} },
    });
    expect(badSetRole?.stderr).toContain('ghtrader: <role>: expected one of viewer, operator, admin, got "boss"');
    expect(unknownUser?.stderr).toBe('ghtrader: user nobody-here not found\n');
    expect(badLimit?.stderr).toContain('ghtrader: --limit: expected a whole number');
    expect(noOwner?.stderr).toContain('ghtrader: --owner: required');
    expect(badDays?.stderr).toBe('ghtrader: --expires-in-days: expected 1..365 days\n');
    expect(badId?.stderr).toContain('ghtrader: <id>: expected the 10-character token id');
    expect(usersAfter).toEqual(usersBefore);
  });
});

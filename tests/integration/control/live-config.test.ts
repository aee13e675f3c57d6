/**
 * Managed keys applied to running processes (control-chain §5.3–5.4: "applied live unless marked restart"; processes
 * "refresh on `config.revision` and every 5 s"), on the real DynamoDB emulator: this process's own writes apply at
 * once, another process's on its `config.revision` event or within 5 s, precedence stays revision > env > default
 * (env values the process parsed with its own, test-sized bounds included), login limits change behaviour over HTTP,
 * and the process logger follows `GHTRADER_LOG_LEVEL`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalRunner } from '#functions/local-runner.ts';
import { systemClock } from '#shared/domain/time.ts';
import { DynamoConfigStore } from '#shared/infra/aws/config-store.ts';
import { createLogger, silentLogger } from '#shared/log.ts';
import { type Caller, systemCaller } from '#shared/services/auth-service.ts';
import { ConfigService } from '#shared/services/config-service.ts';
import { followLogLevel, LiveConfig, liveAuthLimits, liveWsLimits } from '#shared/services/live-config.ts';
import { ManualClock } from '../../unit/services/support/in-memory-ports.ts';
import { waitFor } from '../support/stack.ts';
import { errorOf, ORIGIN, WebTestStack } from '../web/support.ts';

const admin: Caller = systemCaller('cli', 'cli:live-config-test@host', 'req-live-config-1');

let web: WebTestStack;

beforeAll(async () => {
  // 1 s is below the registry's 60 s floor: the env schema admits it for tests, and the revision can still override it.
  web = await WebTestStack.create({ env: { GHTRADER_LOGIN_WINDOW_S: '1' } });
});

afterAll(async () => {
  await web?.close();
});

/** Another process's Config Service on the same table (its writes reach this process only through the store). */
function otherProcess(): ConfigService {
  const { rt, config } = web.stack;
  return new ConfigService({
    store: new DynamoConfigStore(rt.clients.doc, config.tables.config),
    audit: rt.audit,
    publish: () => {},
    clock: systemClock,
    log: silentLogger(),
    env: {},
    cursorSecret: 'live-config-test-secret-01',
  });
}

describe('LiveConfig', () => {
  it('resolves revision > the process env > default, and applies this process’s own writes at once', async () => {
    // Prepare
    const { rt, config } = web.stack;
    const limits = liveAuthLimits(rt.live, config.auth);
    const ws = liveWsLimits(rt.live);
    expect(limits.loginWindowS).toBe(1);
    expect(ws.lagCloseMs).toBe(30_000);

    // Act
    const set = await rt.configService.set(admin, {
      values: { GHTRADER_LOGIN_WINDOW_S: 120, GHTRADER_WS_LAG_CLOSE_S: 7, GHTRADER_WS_CLIENT_QUEUE_MAX: 64 },
    });

    // Assess
    expect(rt.live.revision).toBe(set.revision);
    expect(limits.loginWindowS).toBe(120);
    expect(ws).toEqual({ lagCloseMs: 7_000, queueMax: 64 });
    expect(rt.live.resolve('GHTRADER_WS_LAG_CLOSE_S').source).toBe(`config:GHTRADER_WS_LAG_CLOSE_S@${set.revision}`);

    // Act: removing the keys from the revision brings back the env value and the default
    await rt.configService.set(admin, {
      values: { GHTRADER_LOGIN_WINDOW_S: null, GHTRADER_WS_LAG_CLOSE_S: null, GHTRADER_WS_CLIENT_QUEUE_MAX: null },
    });

    // Assess
    expect(limits.loginWindowS).toBe(1);
    expect(ws).toEqual({ lagCloseMs: 30_000, queueMax: 256 });
  });

  it('follows another process’s write on its config.revision event at once, and otherwise within 5 s', async () => {
    // Prepare: this "process" reads the head through its own Config Service on a clock the test moves
    const { rt, config } = web.stack;
    const clock = new ManualClock(Date.now());
    const mine = new ConfigService({
      store: new DynamoConfigStore(rt.clients.doc, config.tables.config),
      audit: rt.audit,
      publish: () => {},
      clock,
      log: silentLogger(),
      env: {},
      cursorSecret: 'live-config-test-secret-02',
    });
    const live = new LiveConfig({ configService: mine, env: {}, clock, log: silentLogger() });
    await live.fresh();
    const other = otherProcess();

    // Act: a write elsewhere, no event, 4.9 s later
    await other.set(admin, { values: { GHTRADER_WS_CLIENT_QUEUE_MAX: 100 } });
    clock.advanceS(4.9);

    // Assess: the head in use is not older than 5 s yet
    expect(live.number('GHTRADER_WS_CLIENT_QUEUE_MAX')).toBe(256);

    // Act: past 5 s, a read starts one re-read (and answers from the head it has meanwhile)
    clock.advanceS(0.2);
    live.number('GHTRADER_WS_CLIENT_QUEUE_MAX');

    // Assess
    await waitFor(async () => live.number('GHTRADER_WS_CLIENT_QUEUE_MAX') === 100, 5_000, 'the 5 s re-read');

    // Act: another write, announced by its event; the clock does not move
    const next = await other.set(admin, { values: { GHTRADER_WS_CLIENT_QUEUE_MAX: 128 } });
    live.noteRevision(next.revision);

    // Assess
    await waitFor(async () => live.number('GHTRADER_WS_CLIENT_QUEUE_MAX') === 128, 5_000, 'the event re-read');
    expect(live.revision).toBe(next.revision);
    await other.set(admin, { values: { GHTRADER_WS_CLIENT_QUEUE_MAX: null } });
    live.close();
  });

  it('changes the login limit over HTTP when the revision changes GHTRADER_LOGIN_MAX_FAILURES', async () => {
    // Prepare
    const { rt } = web.stack;
    // (the window too: this stack's env window of 1 s could split the attempts over two windows)
    await rt.configService.set(admin, { values: { GHTRADER_LOGIN_MAX_FAILURES: 2, GHTRADER_LOGIN_WINDOW_S: 900 } });
    const user = await web.createUser('viewer');
    const attempt = (password: string) =>
      web.send('POST', '/api/auth/login', { username: user.username, password }, { origin: ORIGIN });

    // Act
    const first = await attempt('wrong-1');
    const second = await attempt('wrong-2');
    const third = await attempt(user.password);

    // Assess: the third attempt is refused after 2 failures (the env default allows 5)
    expect([first.status, second.status]).toEqual([401, 401]);
    expect(third.status).toBe(429);
    expect((await errorOf(third)).code).toBe('rate_limited');

    // Act: back to the default; a fresh user gets 5 again
    await rt.configService.set(admin, { values: { GHTRADER_LOGIN_MAX_FAILURES: null } });
    await rt.configService.set(admin, { values: { GHTRADER_LOGIN_WINDOW_S: 900 } });
    const other = await web.createUser('viewer');
    for (let i = 0; i < 3; i++) {
      const r = await web.send(
        'POST',
        '/api/auth/login',
        { username: other.username, password: `wrong-${i}` },
        { origin: ORIGIN },
      );
      expect(r.status).toBe(401);
    }
    const ok = await web.send(
      'POST',
      '/api/auth/login',
      { username: other.username, password: other.password },
      { origin: ORIGIN },
    );

    // Assess
    expect(ok.status).toBe(200);
    await rt.configService.set(admin, { values: { GHTRADER_LOGIN_WINDOW_S: null } });
  });

  it('starts the local runner with the revision’s GHTRADER_RUNNER_CONCURRENCY (a restart key)', async () => {
    // Prepare
    const { rt } = web.stack;
    const busy = async () => {
      const runner = createLocalRunner(rt, { waitTimeS: 1, log: silentLogger() });
      runner.start();
      const text = runner.status().text;
      await runner.stop();
      return text;
    };
    expect(await busy()).toMatch(/\/4 busy/);

    // Act: the revision changes the key; a runner started afterwards (as after a restart) takes it
    await rt.configService.set(admin, { values: { GHTRADER_RUNNER_CONCURRENCY: 7 }, reason: 'restart key test' });

    // Assess
    expect(await busy()).toMatch(/\/7 busy/);
    await rt.configService.set(admin, { values: { GHTRADER_RUNNER_CONCURRENCY: null }, reason: 'restart key test' });
  });

  it('makes the process logger and its children follow GHTRADER_LOG_LEVEL in the revision', async () => {
    // Prepare
    const { rt } = web.stack;
    const lines: string[] = [];
    const root = createLogger({
      service: 'live-log-test',
      level: 'info',
      destination: { write: (l) => lines.push(l) },
    });
    const child = root.child({ component: 'made-before' });
    const unfollow = followLogLevel(rt.live, root, 'info');
    const messages = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

    // Act
    child.debug('debug-at-info');
    await rt.configService.set(admin, { values: { GHTRADER_LOG_LEVEL: 'debug' } });
    child.debug('debug-at-debug');
    await rt.configService.set(admin, { values: { GHTRADER_LOG_LEVEL: 'warn' } });
    child.info('info-at-warn');
    child.warn('warn-at-warn');
    await rt.configService.set(admin, { values: { GHTRADER_LOG_LEVEL: null } });
    child.info('info-back-at-info');
    unfollow();

    // Assess
    expect(messages()).toEqual(['debug-at-debug', 'warn-at-warn', 'info-back-at-info']);
    expect(() => followLogLevel(rt.live, silentLogger(), 'info')).toThrow(/not made by createLogger/);
  });
});

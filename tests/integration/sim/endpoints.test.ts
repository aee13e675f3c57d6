import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTokenPayload } from '#colo/sim/dev-token.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { createLogger } from '#shared/log.ts';
import { RawDiffClient } from './raw-diff-client.ts';

const log = createLogger({ service: 'ghsim-test', level: 'silent' });

describe('simulator HTTP endpoints and socket auth', () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startSimulator(
      { port: 0, clock: 'accelerated', start: '2025-01-10 10:00:00', speed: 1, maintenance: 'off' },
      { log },
    );
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('binds 127.0.0.1 on a random port', () => {
    // Assess
    expect(sim.port).toBeGreaterThan(0);
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
  });

  it('answers the password grant with the dev token', async () => {
    // Act
    const res = await fetch(`${sim.url}/auth/realms/shinnytech/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=any&password=any&client_id=shinny_tq&client_secret=x',
    });
    const body = (await res.json()) as Record<string, unknown>;

    // Assess
    expect(res.status).toBe(200);
    expect(body).toMatchObject({
      access_token: sim.token,
      refresh_token: sim.token,
      expires_in: 3600,
      token_type: 'Bearer',
    });
    expect(decodeTokenPayload(sim.token)).toMatchObject({
      sub: 'ghsim-user',
      grants: { features: ['futr', 'lmt_idx', 'tq_dl'], accounts: ['*'] },
    });
  });

  it('answers the refresh grant too, and refuses another grant type with 400', async () => {
    // Act
    const refresh = await fetch(`${sim.url}/auth/realms/shinnytech/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    const other = await fetch(`${sim.url}/auth/realms/shinnytech/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });

    // Assess
    expect(refresh.status).toBe(200);
    expect(other.status).toBe(400);
  });

  it('serves get-grant, update-grant-accounts (204), /ns and the broker JSON', async () => {
    // Act
    const grant = await (await fetch(`${sim.url}/auth/realms/shinnytech/rest/get-grant/tq`)).json();
    const bind = await fetch(`${sim.url}/auth/realms/shinnytech/rest/update-grant-accounts/acct1`, { method: 'PUT' });
    const ns = await (await fetch(`${sim.url}/ns?stock=false&backtest=false`)).json();
    const broker = await (await fetch(`${sim.url}/ghsim.json?account_id=a&auth=u`)).json();
    const unknown = await fetch(`${sim.url}/otherbroker.json`);

    // Assess
    expect(grant).toMatchObject({ daysleft: 365, account_type: 'sim' });
    expect(bind.status).toBe(204);
    expect(ns).toEqual({ mdurl: `ws://127.0.0.1:${sim.port}/t/md/front/mobile` });
    expect(broker).toEqual({
      ghsim: { category: ['TQ'], url: `ws://127.0.0.1:${sim.port}/trade`, broker_type: 'FUTURE' },
    });
    expect(unknown.status).toBe(404);
  });

  it('serves a continuous table with one [yyyymmdd, main] entry per trading day for each variety', async () => {
    // Act
    const table = (await (await fetch(`${sim.url}/continuous_table.json`)).json()) as Record<
      string,
      [number, string][]
    >;

    // Assess
    expect(Object.keys(table).sort()).toEqual(['SHFE.ag', 'SHFE.au', 'SHFE.cu']);
    const cu = table['SHFE.cu'] ?? [];
    expect(cu[0]?.[0]).toBe(20240102);
    expect(cu.at(-1)?.[0]).toBe(20250110);
    expect(cu.every(([, s]) => /^SHFE\.cu\d{4}$/.test(s))).toBe(true);
  });

  it('refuses an md or trade upgrade without the Bearer dev token with HTTP 401', async () => {
    // Act
    const mdNone = await RawDiffClient.refusal(sim.mdUrl, null);
    const mdWrong = await RawDiffClient.refusal(sim.mdUrl, 'not-the-token');
    const tradeNone = await RawDiffClient.refusal(sim.tradeUrl, null);
    const mdOk = await RawDiffClient.refusal(sim.mdUrl, sim.token);

    // Assess
    expect(mdNone?.status).toBe(401);
    expect(mdWrong?.status).toBe(401);
    expect(tradeNone?.status).toBe(401);
    expect(mdOk).toBeNull();
  });

  it('requires the dev token on /admin and reports the clock there', async () => {
    // Act
    const anonymous = await fetch(`${sim.url}/admin/clock`);
    const clock = (await (
      await fetch(`${sim.url}/admin/clock`, { headers: { Authorization: `Bearer ${sim.token}` } })
    ).json()) as Record<string, unknown>;

    // Assess
    expect(anonymous.status).toBe(401);
    expect(clock).toMatchObject({ mode: 'accelerated', speed: 1, trading_day: '2025-01-10', finished: false });
    expect(typeof clock.now_ns).toBe('string');
  });

  it('answers 503 "maintenance: 系统运维中" to upgrades during an on-demand maintenance window, and 400 to a bad fault', async () => {
    // Prepare
    const admin = { Authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' };

    // Act
    const bad = await fetch(`${sim.url}/admin/faults`, { method: 'POST', headers: admin, body: '{"kind":"nope"}' });
    await fetch(`${sim.url}/admin/faults`, {
      method: 'POST',
      headers: admin,
      body: '{"kind":"maintenance","for_s":30}',
    });
    const during = await RawDiffClient.refusal(sim.tradeUrl, sim.token);
    await fetch(`${sim.url}/admin/faults`, { method: 'DELETE', headers: admin });
    const after = await RawDiffClient.refusal(sim.tradeUrl, sim.token);

    // Assess
    expect(bad.status).toBe(400);
    expect(during).toEqual({ status: 503, body: 'maintenance: 系统运维中' });
    expect(after).toBeNull();
  });
});

/**
 * Bad input across the whole route table ("bad input gets a clear error": 4xx, never 500). Every route the app
 * registers is sent junk path parameters, queries and bodies by an admin (so no role check stops the request before
 * its validation); every answer must be below 500 and, when it is an error, carry the error envelope with a code and
 * an actionable message. A 503 is allowed only as `dependency_unavailable` for a dependency this stack does not wire.
 * New routes are covered without touching this file.
 */
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#shared/log.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import type { WebEnv } from '#web/env.ts';
import { createNodeRealtime, type NodeRealtime } from '#web/realtime/node.ts';
import { type DataFixture, openDataFixture, seedCu } from './data-fixtures.ts';
import { type BrowserSession, ORIGIN, type TestUser, WebTestStack } from './support.ts';

let web: WebTestStack;
/** The app with every dependency `ghtrader up` wires except the market feed (its 503 is the one allowed). */
let app: Hono<WebEnv>;
let realtime: NodeRealtime;
let data: DataFixture;
let admin: TestUser;
let session: BrowserSession;

beforeAll(async () => {
  data = await openDataFixture('sweep');
  await seedCu(data);
  web = await WebTestStack.create({
    data: { store: data.store, artifacts: data.artifacts, calendar: data.calendar },
    accounts: { simulatorBrokerId: null },
    realtime: (auth, stack, hot) => {
      realtime = createNodeRealtime({ config: stack.config, auth, hot, log: silentLogger() });
      return realtime.deps;
    },
  });
  const { rt } = web.stack;
  const trading = tradingControl(rt);
  app = web.appWith({
    supervision: { desired: rt.desired, telemetry: rt.supervisorTelemetry },
    commands: trading.commands,
    consoleStatus: trading.consoleStatus,
  });
  admin = await web.createUser('admin');
  session = await web.login(admin);
}, 60_000);

afterAll(async () => {
  await realtime?.close();
  await web?.close();
  await data?.close();
});

const PARAM_VALUES = [
  'x',
  'cu',
  'default',
  'ZZ',
  '%00',
  '..%2F..%2Fetc',
  'a'.repeat(300),
  '01J00000000000000000000000',
  '-1',
  '%F0%9F%92%A5',
];
const QUERIES = [
  '',
  '?limit=abc&cursor=%25%25%25&start=2025-13-45&end=x&var=zz&account_profile=..%2F..&status=nope',
  '?limit=-1&before=x&after=y&since=z&day=2026-02-30&symbol=%00',
  '?limit=1e309&page=NaN&max_bytes=99999999999999999999&attempt=-3',
];
const BODIES: (string | undefined)[] = [
  undefined,
  '',
  'not json',
  '{',
  'null',
  '[]',
  '"x"',
  '42',
  '{}',
  '{"a":1}',
  JSON.stringify({
    kind: 1,
    params: 'x',
    values: [1],
    var: 'zz',
    sql: 3,
    username: {},
    password: [],
    role: 'god',
    type: 'nope',
    account_profile: '../../x',
    reason: 5,
    ids: 'x',
    target: 'x',
  }),
  JSON.stringify({ values: { NOT_A_KEY: 'x', GHTRADER_SLO_QUEUE_WARN: 'abc' }, revision: -1, expected_revision: 'x' }),
];

interface Finding {
  method: string;
  path: string;
  status: number;
  body: string;
}

function routesOf(): { method: string; path: string }[] {
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue;
    const k = `${r.method} ${r.path}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ method: r.method, path: r.path });
  }
  // Logout ends the session the sweep runs in: last.
  return out.sort((a, b) => Number(a.path === '/api/auth/logout') - Number(b.path === '/api/auth/logout'));
}

/** The route's path with every `:param` (and `:param{re}`) replaced by `value`, a variety by `variety`. */
function fill(path: string, value: string, variety = value): string {
  return path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, (_, name: string) => (name === 'var' ? variety : value));
}

/** The paths a route is tried with: junk in every parameter, then junk beside a real variety. */
function pathsOf(path: string): string[] {
  if (!path.includes(':')) return [path];
  const all = PARAM_VALUES.map((v) => fill(path, v));
  const withVariety = path.includes(':var') ? PARAM_VALUES.map((v) => fill(path, v, 'cu')) : [];
  return [...new Set([...all, ...withVariety])];
}

describe('bad input across every route', () => {
  it('answers junk with a 4xx error envelope, never a 5xx', async () => {
    const routes = routesOf();
    expect(routes.length).toBeGreaterThan(40);
    const findings: Finding[] = [];
    /** Per route, the statuses it answered (a route that only ever said 401 or 404 was never really exercised). */
    const reached = new Map<string, Set<number>>();
    const badEnvelopes: Finding[] = [];
    for (const route of routes) {
      const paths = pathsOf(route.path);
      const isWrite = route.method !== 'GET' && route.method !== 'HEAD';
      for (const p of paths) {
        for (const q of QUERIES) {
          for (const body of isWrite ? BODIES : [undefined]) {
            const headers: Record<string, string> = { ...web.browserHeaders(session) };
            if (body !== undefined) headers['content-type'] = 'application/json';
            const res = await app.request(
              `${ORIGIN}${p}${q}`,
              { method: route.method, headers, body },
              { incoming: { socket: { remoteAddress: web.ip } } },
            );
            const text = await res.text();
            const key = `${route.method} ${route.path}`;
            reached.set(key, (reached.get(key) ?? new Set()).add(res.status));
            const f = { method: route.method, path: `${p}${q}`, status: res.status, body: text.slice(0, 300) };
            const isApi = p.startsWith('/api/');
            if (res.status >= 500) {
              const dependency = res.status === 503 && text.includes('"dependency_unavailable"');
              if (!dependency) findings.push(f);
            } else if (res.status >= 400 && isApi) {
              let ok = false;
              try {
                const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
                ok = typeof e?.code === 'string' && typeof e.message === 'string' && e.message.length > 10;
              } catch {
                ok = false;
              }
              if (!ok) badEnvelopes.push(f);
            }
          }
        }
      }
    }
    expect(findings).toEqual([]);
    expect(badEnvelopes).toEqual([]);
    // The sweep got past authentication: every API route but logout answered something besides 401/403.
    const unreached = [...reached]
      .filter(
        ([k, statuses]) =>
          k.includes(' /api/') && !k.endsWith('/logout') && [...statuses].every((st) => st === 401 || st === 403),
      )
      .map(([k]) => k);
    expect(unreached).toEqual([]);
  }, 300_000);
});

/**
 * The app's route table, checked whole so that new routes are covered without touching this file:
 *
 * - Bad input ("bad input gets a clear error": 4xx, never 500): every registered route is sent junk path parameters,
 *   queries and bodies by an admin (so no role check stops the request before its validation); every answer must be
 *   below 500 and, when it is an API error, carry the error envelope with a code and an actionable message. A 503 is
 *   allowed only as `dependency_unavailable` for a dependency this stack does not wire (the market feed).
 * - Docs (control-chain pitfall 15, "promised routes that 404, env names the code never read"): `web/ROUTES.md` is
 *   generated from the route table (every API route, and the role its guard declares: a route without one fails);
 *   every `/api/…` path the READMEs mention is a route; every `GHTRADER_*` name they mention is a managed config key or
 *   read by the code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyConfigKey } from '#shared/domain/control/config-registry.ts';
import { silentLogger } from '#shared/log.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import type { WebEnv } from '#web/env.ts';
import { createNodeRealtime, type NodeRealtime } from '#web/realtime/node.ts';
import { type RouteRow, renderRouteTable, routeTable } from '#web/route-access.ts';
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

/** The routes to sweep: the route table, logout last (it ends the session the sweep runs in). */
function routesOf(): RouteRow[] {
  const isLogout = (r: RouteRow) => Number(r.path === '/api/auth/logout');
  return routeTable(app).sort((a, b) => isLogout(a) - isLogout(b));
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

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ROUTES_DOC_HEAD = `# HTTP API routes

Generated from the web app's route table by \`tests/integration/web/route-table.test.ts\` (run it with \`-u\` after
changing a route; the test fails while this file is out of date). The minimum role is the one the route's guard
declares: \`viewer\` < \`operator\` < \`admin\`; \`same-origin\` routes take no identity (they create one) and accept only
the console's own origin; \`public\` needs nothing. A state-changing route names its audit action: successes are
audited by the service, and a caller below the minimum role is audited as \`denied\`. Request and answer shapes are in
\`web/README.md\` and the zod schemas each route parses with.

`;
const DOCS = ['README.md', ...['cdk', 'colo', 'functions', 'shared', 'tests', 'web'].map((d) => `${d}/README.md`)];
const SOURCE_DIRS = ['shared', 'colo', 'web', 'functions', 'cdk'];

function docText(): string {
  return DOCS.map((f) => readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
}

/** `a{b,c}d` -> `abd`, `acd` (nested groups too); a group without a top-level comma (`{var}`) is a parameter, kept. */
function expandBraces(p: string): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '{' && depth++ === 0) start = i;
    if (p[i] === '}' && --depth === 0) {
      const alternatives: string[] = [];
      let level = 0;
      let from = start + 1;
      for (let j = start + 1; j < i; j++) {
        if (p[j] === '{') level++;
        if (p[j] === '}') level--;
        if (p[j] === ',' && level === 0) {
          alternatives.push(p.slice(from, j));
          from = j + 1;
        }
      }
      if (alternatives.length > 0) {
        alternatives.push(p.slice(from, i));
        return alternatives.flatMap((a) => expandBraces(p.slice(0, start) + a + p.slice(i + 1)));
      }
    }
  }
  return [p];
}

/** A path in one spelling: each parameter (`{id}`, `:id`, `:var{cu|au|ag}`) becomes `{}`. */
function canonical(p: string): string {
  return p.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, '{}').replace(/\{[A-Za-z_]+\}/g, '{}');
}

/** The `/api/…` paths the docs mention, expanded and canonical; a trailing `*` is a prefix. */
function documentedApiPaths(): string[] {
  const raw = docText().match(/\/api\/[A-Za-z0-9_{},/:*.-]*/g) ?? [];
  const out = new Set<string>();
  for (const r of raw) for (const p of expandBraces(r.replace(/[.,]+$/, ''))) out.add(canonical(p));
  return [...out];
}

function covers(doc: string, route: string): boolean {
  return doc.endsWith('*') ? route.startsWith(doc.slice(0, -1)) : doc === route;
}

function sourceText(): string {
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'cdk.out') walk(p);
      } else if (/\.(ts|tsx|mjs)$/.test(e.name)) parts.push(readFileSync(p, 'utf8'));
    }
  };
  for (const d of SOURCE_DIRS) walk(path.join(ROOT, d));
  return parts.join('\n');
}

describe('the docs match the route table and the config registry', () => {
  it('web/ROUTES.md is the route table: every API route with the guard that declares who may call it', async () => {
    // Arrange
    const rows = routeTable(app).filter((r) => r.path.startsWith('/api/') || r.path === '/health' || r.path === '/ws');
    expect(rows.length).toBeGreaterThan(40);

    // Assert: no route without a declared guard; the file is current (`npx vitest run -u` on this file rewrites it)
    expect(rows.filter((r) => r.access === null).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    await expect(ROUTES_DOC_HEAD + renderRouteTable(rows)).toMatchFileSnapshot(path.join(ROOT, 'web/ROUTES.md'));
  });

  it('every /api path the READMEs mention is a route', () => {
    // Arrange
    const routes = [...new Set(routesOf().map((r) => canonical(r.path)))].filter((r) => r.startsWith('/api/'));
    const documented = documentedApiPaths();
    expect(documented.length).toBeGreaterThan(20);

    // Assert
    expect(documented.filter((d) => !routes.some((r) => covers(d, r)))).toEqual([]);
  });

  it('every GHTRADER_* name the READMEs mention is a managed key (scoped variants too) or read by the code', () => {
    // Arrange
    const names = [...new Set(docText().match(/\bGHTRADER_[A-Z0-9_]*[A-Z0-9]/g) ?? [])];
    const source = sourceText();
    expect(names.length).toBeGreaterThan(10);

    // Assert
    const unknown = names.filter((n) => classifyConfigKey(n).kind !== 'managed' && !source.includes(n));
    expect(unknown).toEqual([]);
  });
});

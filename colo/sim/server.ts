/**
 * `startSimulator`: the SHFE simulator's servers on one loopback port (market-protocol §2.1) — HTTP endpoints, the
 * md WebSocket (`/t/md/front/mobile`) and the trade WebSocket (`/trade`), sharing one `node:http` server through
 * `ws` in `noServer` mode. Binds 127.0.0.1 only.
 *
 * @example
 * const sim = await startSimulator({ port: 0, clock: 'accelerated', start: '2025-01-10 09:00:00', speed: 60 });
 * // GHTRADER_DIFF_MD_URL=`${sim.mdUrl}` GHTRADER_DIFF_TOKEN=sim.token ...
 * await sim.stop();
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import { parseDiffJson } from '#shared/infra/diff/json.ts';
import { createLogger, type Logger } from '#shared/log.ts';
import type { ClockInfo, SimClock, WallNs } from './clock.ts';
import { parseSimOptions, type SimOptions, type SimOptionsInput } from './config.ts';
import type { ConnectionStats } from './connection.ts';
import { bearerMatches, defaultDevToken } from './dev-token.ts';
import { SimConfigError } from './errors.ts';
import { FaultSchema, Faults } from './faults.ts';
import { type AdminApi, handleHttp } from './http-endpoints.ts';
import { FileLedgerStore, type LedgerStore, MemoryLedgerStore } from './ledger-store.ts';
import { SimMarket } from './market/index.ts';
import { SimMarketAdapter } from './market-adapter.ts';
import type { MarketPort } from './market-port.ts';
import { MdSession } from './md-session.ts';
import { Simulator } from './simulator.ts';

export const MD_PATH = '/t/md/front/mobile';
export const TRADE_PATH = '/trade';
export const MAINTENANCE_BODY = 'maintenance: 系统运维中';

export interface SimStats {
  connections: ConnectionStats[];
  totals: { md: number; trade: number; live_charts: number };
}

export interface SimAdmin {
  clock(): ClockInfo;
  stats(): SimStats;
  faults(): Record<string, unknown>;
  /** Validate and apply a fault body (§2.8); throws `SimConfigError` on a bad body. */
  addFault(body: unknown): { applied: string; affected?: number };
  clearFaults(): void;
  /** Replay and tests: bring the market up to the clock now (realtime/accelerated do this on a timer). */
  step(): void;
}

export interface SimulatorHandle {
  port: number;
  /** `http://127.0.0.1:<port>`: the base of `GHTRADER_DIFF_AUTH_URL`, `_NS_URL` (`/ns`), `_FILES_URL`. */
  url: string;
  mdUrl: string;
  tradeUrl: string;
  brokerId: string;
  token: string;
  clock: SimClock;
  admin: SimAdmin;
  /** Close every socket and the listener, and wait for ledger writes. */
  stop(): Promise<void>;
}

/** Injected collaborators (tests pin the wall clock or share a calendar/market). */
export interface SimulatorDepsInput {
  log?: Logger;
  wall?: WallNs;
  calendar?: TradingCalendar;
  market?: MarketPort;
  ledgers?: LedgerStore;
}

function rejectUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  const text = Buffer.from(body, 'utf8');
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${text.length}\r\n\r\n${body}`,
  );
}

/** Start the simulator; resolves once it listens. */
export async function startSimulator(
  input: SimOptionsInput,
  depsIn: SimulatorDepsInput = {},
): Promise<SimulatorHandle> {
  const opts: SimOptions = parseSimOptions(input);
  const log = depsIn.log ?? createLogger({ service: 'ghsim', level: 'info' });
  const cal = depsIn.calendar ?? shippedCalendar();
  const market =
    depsIn.market ??
    new SimMarketAdapter(new SimMarket({ seed: opts.seed, calendar: cal, historyFrom: opts.historyFrom }));
  const store = depsIn.ledgers ?? (opts.home ? new FileLedgerStore(opts.home) : new MemoryLedgerStore());
  const faults = new Faults(Date.now, opts.delayMs ?? 0);
  const token = opts.token ?? defaultDevToken();
  const sim = new Simulator(opts, { cal, market, store, faults, log, ...(depsIn.wall ? { wall: depsIn.wall } : {}) });

  let port = 0;
  const wsBase = () => `ws://127.0.0.1:${port}`;

  const admin: SimAdmin = {
    clock: () => sim.clock.info(tradingDayOf(cal, sim.clock.now(), 'SHFE', 'cu').trading_day),
    stats: () => {
      const connections = sim.stats();
      return {
        connections,
        totals: {
          md: connections.filter((c) => c.kind === 'md').length,
          trade: connections.filter((c) => c.kind === 'trade').length,
          live_charts: connections.reduce((a, c) => a + c.live_charts, 0),
        },
      };
    },
    faults: () => faults.describe(),
    addFault: (body) => {
      const r = FaultSchema.safeParse(body);
      if (!r.success) {
        const text = r.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');
        throw new SimConfigError(`invalid fault: ${text}`, { details: { issues: r.error.issues } });
      }
      const f = r.data;
      faults.add(f);
      switch (f.kind) {
        case 'drop':
          return { applied: 'drop', affected: sim.dropAll(f.socket, f.mode === 'abrupt') };
        case 'maintenance':
          return { applied: 'maintenance', affected: sim.dropAll('all', false) };
        case 'notify':
          return {
            applied: 'notify',
            affected: sim.pushNotify(f.socket, { type: f.type, level: f.level, code: f.code, content: f.content }),
          };
        default:
          return { applied: f.kind };
      }
    },
    clearFaults: () => {
      faults.clear();
      sim.clearFaultRows();
    },
    step: () => sim.step(),
  };

  const adminHttp: AdminApi = admin;
  const server = createServer((req, res) => {
    void handleHttp(req, res, {
      token,
      brokerId: opts.config.broker_id,
      wsBase,
      continuousTable: () => market.continuousTable(opts.historyFrom, sim.tradingDay()),
      admin: adminHttp,
      log,
    });
  });
  // One frame can be several MB (a 2,000-row chart chunk); inbound frames are small requests. No permessage-deflate:
  // the sim serves loopback only, where compressing MB-sized chart frames costs both ends CPU and saves nothing.
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 16 * 1024 * 1024,
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== MD_PATH && path !== TRADE_PATH)
      return rejectUpgrade(socket, 404, 'Not Found', `no WebSocket at ${path}`);
    if (!bearerMatches(req.headers.authorization, token)) {
      return rejectUpgrade(socket, 401, 'Unauthorized', 'missing or wrong Authorization: Bearer <dev token>');
    }
    if (sim.maintenanceActive) return rejectUpgrade(socket, 503, 'Service Unavailable', MAINTENANCE_BODY);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const session = path === MD_PATH ? sim.attachMd(ws) : sim.attachTrade(ws);
      ws.on('message', (data, isBinary) => {
        let msg: unknown;
        try {
          msg = parseDiffJson(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
        } catch (err) {
          log.warn({ err, conn: session.id }, 'sim: malformed frame ignored');
          return;
        }
        if (
          typeof msg !== 'object' ||
          msg === null ||
          Array.isArray(msg) ||
          typeof (msg as { aid?: unknown }).aid !== 'string'
        ) {
          log.warn({ conn: session.id }, 'sim: frame without an aid ignored');
          return;
        }
        try {
          session.handle(msg as Record<string, unknown>);
        } catch (err) {
          log.error({ err, conn: session.id, aid: (msg as { aid: string }).aid }, 'sim: request failed');
          if (session instanceof MdSession)
            session.notify('ERROR', 500, `ghsim internal error on ${(msg as { aid: string }).aid}`);
        }
      });
      ws.on('error', (err) => log.warn({ err, conn: session.id }, 'sim: socket error'));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  sim.start();
  log.info({ port, clock: opts.clock, speed: opts.speed, seed: opts.seed }, 'ghsim listening');

  let stopped: Promise<void> | null = null;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    mdUrl: `${wsBase()}${MD_PATH}`,
    tradeUrl: `${wsBase()}${TRADE_PATH}`,
    brokerId: opts.config.broker_id,
    token,
    clock: sim.clock,
    admin,
    stop: () => {
      stopped ??= (async () => {
        sim.stop();
        for (const c of wss.clients) c.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await sim.engine.idle();
      })();
      return stopped;
    },
  };
}

/**
 * The QuestDB HTTP client against a tiny in-test HTTP server on 127.0.0.1: request shapes, answers and the §1.3
 * transport retry. The server only records requests and answers as each test scripts it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { QuestDbQueryError } from '#shared/infra/tickstore/questdb-exec.ts';
import {
  isTransportError,
  QuestDbHttp,
  QuestDbHttpError,
  QuestDbTransportError,
} from '#shared/infra/tickstore/questdb-http.ts';
import type { Clock } from '#shared/infra/tickstore/questdb-sql.ts';

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: Seen, res: ServerResponse, socket: IncomingMessage['socket']) => void;

let server: Server | undefined;

async function serve(handler: Handler): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://x'),
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(s);
      handler(s, res, req.socket);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, seen };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => 0, sleep: async (ms) => void sleeps.push(ms) };
}

const json = (res: ServerResponse, status: number, body: string) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
};

describe('QuestDB /exec', () => {
  it('sends the statement as the query parameter with quoteLargeNum and decodes the rows', async () => {
    // Prepare
    const { base, seen } = await serve((_req, res) =>
      json(
        res,
        200,
        '{"query":"q","columns":[{"name":"n","type":"LONG"}],"timestamp":-1,"dataset":[["9223372036854775807"]],"count":1}',
      ),
    );
    const http = new QuestDbHttp({ baseUrl: base, retryMax: 1 });
    const sql = "SELECT count() n FROM t WHERE symbol = 'KQ.m@SHFE.cu' AND x = 'a&b=c'";
    // Act
    const res = await http.query(sql);
    // Assess
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.url.pathname).toBe('/exec');
    expect(seen[0]?.url.searchParams.get('query')).toBe(sql);
    expect(seen[0]?.url.searchParams.get('quoteLargeNum')).toBe('true');
    expect(res.columns[0]?.values).toEqual(BigInt64Array.from([2n ** 63n - 1n]));
  });

  it("reports QuestDB's error and the statement when it answers 400", async () => {
    // Prepare
    const { base } = await serve((_req, res) =>
      json(res, 400, '{"query":"SELECT * FROM nope","error":"table does not exist [table=nope]","position":14}'),
    );
    const http = new QuestDbHttp({ baseUrl: base, retryMax: 1 });
    // Act
    const attempt = http.exec('SELECT * FROM nope');
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(QuestDbQueryError);
    await expect(attempt).rejects.toThrow(
      'QuestDB query failed: table does not exist [table=nope] (at position 14) — in: SELECT * FROM nope',
    );
  });

  it('reports the HTTP status when an error answer is not QuestDB JSON', async () => {
    // Prepare
    const { base } = await serve((_req, res) => json(res, 503, 'Service Unavailable'));
    const http = new QuestDbHttp({ baseUrl: base, retryMax: 1 });
    // Act
    const attempt = http.query('SELECT 1');
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(QuestDbHttpError);
    await expect(attempt).rejects.toThrow('QuestDB query failed with HTTP 503: Service Unavailable');
  });

  it('never resends a statement that changes data after a transport error', async () => {
    // Prepare
    const { base, seen } = await serve((_req, _res, socket) => socket.destroy());
    const clock = recordingClock();
    const http = new QuestDbHttp({ baseUrl: base, retryMax: 1, clock });
    // Act
    const attempt = http.exec("UPDATE t SET s = 'x'");
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(QuestDbTransportError);
    expect(seen).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('QuestDB ILP /write', () => {
  it('POSTs the body unchanged to /write?precision=n and accepts 204', async () => {
    // Prepare
    const { base, seen } = await serve((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const http = new QuestDbHttp({ baseUrl: `${base}/ignored/path`, retryMax: 1 });
    const body = Buffer.concat([
      Buffer.from('t,s=a x=='),
      Buffer.from([16, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]),
      Buffer.from(' 1\n'),
    ]);
    // Act
    await http.write(body);
    // Assess
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('POST');
    expect(`${seen[0]?.url.pathname}${seen[0]?.url.search}`).toBe('/write?precision=n');
    expect(seen[0]?.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(seen[0]?.body.equals(body)).toBe(true);
  });

  it('retries once after the connection breaks, with the same body, after 0.1 s', async () => {
    // Prepare
    let calls = 0;
    const { base, seen } = await serve((_req, res, socket) => {
      if (++calls === 1) return socket.destroy();
      res.writeHead(204);
      res.end();
    });
    const clock = recordingClock();
    const http = new QuestDbHttp({ baseUrl: base, retryMax: 1, clock });
    const body = Buffer.from('t,s=a x=1i 1\n');
    // Act
    await http.write(body);
    // Assess
    expect(seen).toHaveLength(2);
    expect(seen[1]?.body.equals(body)).toBe(true);
    expect(clock.sleeps).toEqual([100]);
  });

  it('gives up after GHTRADER_QDB_ILP_RETRY_MAX retries', async () => {
    // Prepare
    const { base, seen } = await serve((_req, _res, socket) => socket.destroy());
    const clock = recordingClock();
    const twice = new QuestDbHttp({ baseUrl: base, retryMax: 2, clock });
    // Act
    const attempt = twice.write(Buffer.from('t x=1i 1\n'));
    // Assess
    await expect(attempt).rejects.toThrow(/QuestDB ILP write failed after 3 attempt\(s\)/);
    expect(seen).toHaveLength(3);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('treats an HTTP error answer as a write failure without retrying', async () => {
    // Prepare
    const { base, seen } = await serve((_req, res) =>
      json(
        res,
        400,
        '{"code":"invalid","message":"failed to parse line protocol: invalid field format","line":1,"errorId":"x-1"}',
      ),
    );
    const http = new QuestDbHttp({ baseUrl: base, retryMax: 1, clock: recordingClock() });
    // Act
    const attempt = http.write(Buffer.from('t x=? 1\n'));
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(QuestDbHttpError);
    await expect(attempt).rejects.toThrow(
      'QuestDB ILP write failed with HTTP 400: failed to parse line protocol: invalid field format',
    );
    expect(seen).toHaveLength(1);
  });

  it('does not retry a server error either', async () => {
    // Prepare
    const { base, seen } = await serve((_req, res) => json(res, 500, 'internal'));
    const http = new QuestDbHttp({ baseUrl: base, retryMax: 1, clock: recordingClock() });
    // Act
    const attempt = http.write(Buffer.from('t x=1i 1\n'));
    // Assess
    await expect(attempt).rejects.toThrow('QuestDB ILP write failed with HTTP 500: internal');
    expect(seen).toHaveLength(1);
  });
});

describe('QuestDB /settings', () => {
  it('returns the config object, or null when the server has no /settings', async () => {
    // Prepare
    let found = true;
    const { base } = await serve((_req, res) =>
      found ? json(res, 200, '{"config":{"line.proto.support.versions":[1,2]}}') : json(res, 404, 'not found'),
    );
    const http = new QuestDbHttp({ baseUrl: base, retryMax: 0 });
    // Act
    const config = await http.settings();
    found = false;
    const none = await http.settings();
    // Assess
    expect(config).toEqual({ 'line.proto.support.versions': [1, 2] });
    expect(none).toBeNull();
  });
});

describe('transport error classification', () => {
  it('finds socket codes along the cause chain and nothing else', () => {
    // Prepare
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    const closed = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    // Act
    const verdicts = [reset, closed, timeout, new Error('HTTP 500'), 'EPIPE'].map(isTransportError);
    // Assess
    expect(verdicts).toEqual([true, true, false, false, false]);
  });

  it('refuses a URL that is not http(s)', () => {
    // Act
    const attempt = () => new QuestDbHttp({ baseUrl: 'ftp://127.0.0.1:9000', retryMax: 1 });
    // Assess
    expect(attempt).toThrow(/is not http\(s\)/);
  });
});

/**
 * The embedded local cloud: dynalite (DynamoDB, persisted on disk) and fauxqs (SQS, in memory) on loopback.
 * Jobs are durable in the Jobs table, so the in-memory queue losing messages on restart is repaired by the
 * reconciler re-enqueueing jobs still `queued`.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

export interface LocalEmulators {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Directory for dynalite's LevelDB files; omit for an in-memory DynamoDB (tests). */
  dynamoPath?: string;
  host?: string;
  dynamoPort?: number;
  sqsPort?: number;
}

type DynaliteFactory = (opts: Record<string, unknown>) => Server;

/** Start dynalite and fauxqs; ports default to random free ports. */
export async function startEmulators(opts: EmulatorOptions = {}): Promise<LocalEmulators> {
  const host = opts.host ?? '127.0.0.1';
  if (opts.dynamoPath) await mkdir(opts.dynamoPath, { recursive: true });
  const dynalite = require('dynalite') as DynaliteFactory;
  const dyn = dynalite({
    ...(opts.dynamoPath ? { path: opts.dynamoPath } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    dyn.once('error', reject);
    dyn.listen(opts.dynamoPort ?? 0, host, () => resolve());
  });
  const dynPort = (dyn.address() as AddressInfo).port;

  let fauxqs: { port: number; stop(): Promise<void> };
  try {
    const { startFauxqs } = await import('fauxqs');
    fauxqs = await startFauxqs({ port: opts.sqsPort ?? 0, host, logger: false });
  } catch (err) {
    await closeServer(dyn);
    throw err;
  }
  return {
    dynamoEndpoint: `http://${host}:${dynPort}`,
    sqsEndpoint: `http://${host}:${fauxqs.port}`,
    async stop() {
      await Promise.allSettled([fauxqs.stop(), closeServer(dyn)]);
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/**
 * `calendar/sessions.json` in the artifact store (data-chain §3.2): read by the build, validation and the schedule job
 * (shipped history + appended versions), appended by the schedule job when the provider's `trading_time` of the main
 * contract differs from the version in effect. One writer at a time across varieties: the append runs under the lock
 * `calendar:sessions` (the schedule jobs of cu, au and ag may run at once; each holds only its own schedule lock).
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LockStore } from '../../domain/control/locks.ts';
import { type ArtifactStore, assertArtifactKey } from '../../domain/data/artifacts.ts';
import {
  EMPTY_SESSIONS_FILE,
  observeSessions,
  type SessionObservation,
  type SessionsFile,
  SessionsFileSchema,
  sessionHistory,
} from '../../domain/market/session-versions.ts';
import type { SessionVersion, TradingTime } from '../../domain/market/sessions.ts';
import type { Variety } from '../../domain/market/varieties.ts';
import { DataChainError } from '../../errors/data.ts';

export const SESSIONS_KEY = assertArtifactKey('calendar/sessions.json');
export const SESSIONS_LOCK_KEY = 'calendar:sessions';
const LOCK_LEASE_MS = 30_000;
const LOCK_WAIT_MS = 20_000;
const LOCK_POLL_MS = 250;

/** The appended versions, or none when the file does not exist yet; a corrupt file fails naming the key and issues. */
export async function readSessionsFile(artifacts: ArtifactStore): Promise<SessionsFile> {
  const body = await artifacts.get(SESSIONS_KEY);
  if (body === null) return EMPTY_SESSIONS_FILE;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    throw new DataChainError('sessions_file_invalid', `${artifacts.uri(SESSIONS_KEY)} is not JSON`, { cause: err });
  }
  const parsed = SessionsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new DataChainError(
      'sessions_file_invalid',
      `${artifacts.uri(SESSIONS_KEY)} does not hold session versions: ${issues.join('; ')}; restore it from the artifact store's history`,
      { details: { issues } },
    );
  }
  return parsed.data;
}

/** The session history of `variety` the build and validation use: shipped versions + appended ones. */
export async function loadSessionHistory(artifacts: ArtifactStore, variety: Variety): Promise<SessionVersion[]> {
  return sessionHistory(variety, await readSessionsFile(artifacts));
}

export interface SessionsDeps {
  artifacts: ArtifactStore;
  locks: LockStore;
}

/**
 * Record the `trading_time` the provider reports on `tradingDay` for `variety`: appends a version when it differs
 * from the one in effect (under the `calendar:sessions` lock), reports a conflict without writing when a version
 * already starts on or after that day. `ownerId` is the job id.
 */
export async function recordObservedSessions(
  deps: SessionsDeps,
  variety: Variety,
  tradingDay: string,
  observed: TradingTime,
  ownerId: string,
): Promise<SessionObservation> {
  // Most runs change nothing: decide that without the lock.
  const first = observeSessions(await readSessionsFile(deps.artifacts), variety, tradingDay, observed);
  if (first.change !== 'appended') return first;
  const owner = { ownerId, host: hostname(), pid: process.pid };
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const r = await deps.locks.acquire(SESSIONS_LOCK_KEY, owner, LOCK_LEASE_MS);
    if (r.ok) {
      const lease = r.leases[0];
      try {
        // Read again under the lock: another variety's schedule may have appended meanwhile.
        const obs = observeSessions(await readSessionsFile(deps.artifacts), variety, tradingDay, observed);
        if (obs.change === 'appended') {
          await deps.artifacts.put(SESSIONS_KEY, `${JSON.stringify(obs.file, null, 2)}\n`);
        }
        return obs;
      } finally {
        if (lease) await deps.locks.release(lease);
      }
    }
    if (Date.now() >= deadline) {
      const holder = r.conflicts[0];
      throw new DataChainError(
        'sessions_lock_busy',
        `could not take ${SESSIONS_LOCK_KEY} within ${LOCK_WAIT_MS / 1000} s (held by ${holder?.owner ?? 'unknown'} on ${holder?.host ?? '?'}); run the schedule job again`,
        { details: { key: SESSIONS_LOCK_KEY, holder: holder ?? null } },
      );
    }
    await sleep(LOCK_POLL_MS);
  }
}

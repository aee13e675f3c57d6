/**
 * The `ArtifactStore` port (data-chain §0): reports, calendar overrides, training sets and models live under
 * slash-separated keys (`reports/<step>/<name>_<UTC yyyymmddTHHMMSSmmm>_<job_id>.json`). Locally a directory under
 * `$GHTRADER_HOME/artifacts`, in the cloud an S3 bucket; callers only see keys and URIs.
 */
import { DataChainError } from '../../errors/data.ts';

export class ArtifactKeyError extends DataChainError {
  constructor(key: string) {
    super(
      'artifact_key_invalid',
      `artifact key ${JSON.stringify(key)} is not allowed (segments [A-Za-z0-9._@=-], no ..)`,
      {
        details: { key },
      },
    );
  }
}

const SEGMENT = /^[A-Za-z0-9._@=-]+$/;

/** Keys are relative, slash-separated, without empty, `.` or `..` segments. */
export function assertArtifactKey(key: string): string {
  const parts = key.split('/');
  if (parts.some((p) => !SEGMENT.test(p) || p === '.' || p === '..')) throw new ArtifactKeyError(key);
  return key;
}

export interface ArtifactStore {
  /** Write atomically (readers never see half a file); returns the artifact's URI. */
  put(key: string, body: string | Uint8Array): Promise<string>;
  /** The body, or null when absent. */
  get(key: string): Promise<Uint8Array | null>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  uri(key: string): string;
}

/** `<name>_<UTC yyyymmddTHHMMSSmmm>_<job_id>.json` (§0). */
export function reportKey(step: string, name: string, atMs: number, jobId: string): string {
  const iso = new Date(atMs).toISOString(); // 2026-11-21T08:01:02.345Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}`;
  return assertArtifactKey(`reports/${step}/${name}_${stamp}_${jobId}.json`);
}

/** Write a report under its timestamped key and as `<name>_latest.json`; returns the timestamped URI. */
export async function writeReport(
  store: ArtifactStore,
  step: string,
  name: string,
  atMs: number,
  jobId: string,
  report: unknown,
): Promise<string> {
  const body = `${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
  const uri = await store.put(reportKey(step, name, atMs, jobId), body);
  await store.put(assertArtifactKey(`reports/${step}/${name}_latest.json`), body);
  return uri;
}

/**
 * The simulator as a separate process for benches that measure the client's CPU alone: `ghtrader sim serve --json`
 * from `dist/` (built first with `node build.mjs --if-stale`), its endpoints read from the first stdout line, and its
 * CPU read from `/proc/<pid>/stat` (Linux; `null` elsewhere).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import type { SimEndpoints } from './diff-client.ts';

/** The repository root: two levels above both `tests/bench/` and the bundle's `dist/bench/`. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const ServeOutputSchema = z.object({
  port: z.number().int().positive(),
  token: z.string().min(1),
  url: z.url(),
  md_url: z.string().min(1),
});

export interface SimProcess extends SimEndpoints {
  pid: number;
  /** Set when the process exited (expectedly or not). */
  exited(): { code: number | null; signal: string | null } | undefined;
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** Build `dist/` if any source is newer than the last build; the build's output goes to stderr. */
export function ensureBuilt(): void {
  const r = spawnSync(process.execPath, ['build.mjs', '--if-stale'], { cwd: REPO_ROOT, encoding: 'utf8' });
  process.stderr.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (r.status !== 0) throw new Error(`expected \`node build.mjs --if-stale\` to exit 0, found ${r.status}`);
}

/** Start `ghtrader sim serve --port 0 --json <args>`; resolves with its endpoints once it listens. */
export function spawnSim(args: string[], timeoutMs = 30_000): Promise<SimProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // `npm run bench` with BENCH_CPU_PROF_DIR set profiles the simulator too (see run.mjs).
      ...(process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR] : []),
      path.join(REPO_ROOT, 'dist', 'colo', 'cli.js'),
      ...['sim', 'serve', '--port', '0', '--json', ...args],
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let exit: { code: number | null; signal: string | null } | undefined;
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  return new Promise<SimProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`expected the simulator to print its endpoints within ${timeoutMs} ms, found nothing`));
    }, timeoutMs);
    void exitedP.then(() => {
      clearTimeout(timer);
      reject(new Error(`expected the simulator to keep running, found exit ${exit?.code ?? exit?.signal}`));
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => {
      clearTimeout(timer);
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        raw = undefined;
      }
      const parsed = ServeOutputSchema.safeParse(raw);
      if (!parsed.success || child.pid === undefined) {
        child.kill('SIGKILL');
        reject(new Error(`expected {port, token, url, md_url} from sim serve --json, found ${line}`));
        return;
      }
      resolve({
        pid: child.pid,
        url: parsed.data.url,
        mdUrl: parsed.data.md_url,
        token: parsed.data.token,
        exited: () => exit,
        stop: async (graceMs = 5_000) => {
          if (exit !== undefined) return;
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exitedP;
          clearTimeout(kill);
        },
      });
    });
  });
}

let clockTicks: number | undefined;

/** CPU time (user + system, ms) of process `pid` so far, from `/proc/<pid>/stat`; `null` when unreadable. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (clockTicks === undefined) {
      const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
      clockTicks = Number(r.stdout?.trim()) || 100;
    }
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks : null;
  } catch {
    return null;
  }
}

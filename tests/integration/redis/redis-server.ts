/**
 * Throwaway `redis-server` processes on free loopback ports, for tests that must stop and restart Redis (which the
 * shared Redis at 127.0.0.1:6379 must never be). Nothing is persisted: `--save ''`, `--appendonly no`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';

/** A loopback port nothing listens on at the time of the call. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** One redis-server bound to 127.0.0.1:`port`; `start()` again after `stop()` reuses the port. */
export class RedisServerProcess {
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Spawn and resolve once the server logs that it accepts connections (rejects after `timeoutMs`). */
  start(timeoutMs = 5_000): Promise<void> {
    if (this.child) return Promise.reject(new Error(`redis-server on ${this.port} is already running`));
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn('redis-server', [...args, '--dir', os.tmpdir()], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      let output = '';
      const fail = (why: string) => {
        clearTimeout(timer);
        this.child = null;
        child.kill('SIGKILL');
        reject(new Error(`redis-server on port ${this.port} ${why}; output: ${output.slice(-500)}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.once('error', (err) => fail(`failed to spawn (${err.message})`));
      child.once('exit', (code, signal) => {
        if (this.child === child) fail(`exited early (code ${code}, signal ${signal})`);
      });
    });
  }

  /** Kill the server (SIGKILL by default, like a crash) and wait until the process has exited. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}

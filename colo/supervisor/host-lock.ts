/**
 * The supervisor's exclusive OS lock on `$GHTRADER_HOME/run/supervisor.lock` (control-chain §6.2): a Unix domain socket
 * listening at that path. The kernel owns liveness: while the holder lives, a second `listen` fails with `EADDRINUSE`
 * and a `connect` is answered (with the holder's identity); when the holder dies, however abruptly, `connect` is
 * refused, so the file left behind is known stale and replaced. No pid is read from disk.
 *
 * Two starters replacing the same stale file at the same instant could both listen (unlink-then-listen is not atomic);
 * the `supervisor:host=<h>` lease, taken before this lock, is the authority that keeps one of them passive.
 */
import { mkdir, unlink } from 'node:fs/promises';
import net from 'node:net';
import { dirname } from 'node:path';
import { HostLockHeldError } from '#shared/errors/control.ts';

/** Linux `sun_path` holds 108 bytes including the terminator. */
const MAX_SOCKET_PATH = 107;

export class HostLock {
  private server: net.Server | null = null;

  constructor(
    readonly path: string,
    /** Sent to whoever connects (a second supervisor names the holder in its error). */
    private readonly identity: string,
  ) {
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      throw new RangeError(
        `supervisor lock path is longer than ${MAX_SOCKET_PATH} bytes: ${path}; use a shorter --home`,
      );
    }
  }

  /** Take the lock, replacing a stale socket file once; a live holder -> `HostLockHeldError`. */
  async acquire(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        this.server = await this.listen();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
      const holder = await this.probe();
      if (holder !== null) throw new HostLockHeldError(this.path, holder);
      await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    throw new HostLockHeldError(this.path, 'another supervisor took it while a stale lock was replaced');
  }

  async release(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    // close() removes the socket file it created.
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private listen(): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        socket.end(this.identity);
      });
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        server.unref();
        resolve(server);
      });
    });
  }

  /** The live holder's identity, or null when nobody answers (a stale file). */
  private probe(): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.path);
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        text += d;
      });
      socket.once('end', () => resolve(text || 'unknown holder'));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(null);
        else reject(err);
      });
    });
  }
}

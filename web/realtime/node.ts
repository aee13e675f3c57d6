/**
 * The local realtime stack for a Node HTTP server (`ghtrader up`, tests): `@hono/node-ws` for the upgrade, the hub,
 * and ONE Redis `PSUBSCRIBE` feeding it. Build it before the app (the app needs `deps`), then `attach` the app and the
 * listening server.
 */
import type { Server } from 'node:http';
import { createNodeWebSocket } from '@hono/node-ws';
import type { Hono } from 'hono';
import type { AppConfig } from '#shared/config.ts';
import { parseApiToken, sha256HexOf } from '#shared/domain/control/auth-secrets.ts';
import type { HotCache } from '#shared/domain/control/hot-cache.ts';
import { RedisRealtimeFeed } from '#shared/infra/redis/realtime-feed.ts';
import type { Logger } from '#shared/log.ts';
import type { AuthService } from '#shared/services/auth-service.ts';
import { CONFIG_UPDATES_CHANNEL } from '#shared/services/config-service.ts';
import type { LiveConfig } from '#shared/services/live-config.ts';
import type { WebEnv } from '../env.ts';
import { type HubCredential, type HubOptions, RealtimeHub } from './hub.ts';
import type { RealtimeDeps } from './ws-route.ts';

export interface NodeRealtime {
  deps: RealtimeDeps;
  hub: RealtimeHub;
  feed: RedisRealtimeFeed;
  attach(app: Hono<WebEnv>, server: Server): void;
  close(): Promise<void>;
}

/** The reference `AuthService.recheckCredential` takes for a socket's session id or bearer token; null if malformed. */
function credentialRefOfSecret(cred: HubCredential): string | null {
  if (cred.kind === 'session') return `session:${sha256HexOf(cred.id)}`;
  const parsed = parseApiToken(cred.token);
  return parsed ? `token:${parsed.id}` : null;
}

export function createNodeRealtime(o: {
  config: AppConfig;
  auth: AuthService;
  log: Logger;
  hub?: Omit<HubOptions, 'log' | 'reauthenticate'>;
  /**
   * The app's hot-read cache: every feed message invalidates what it makes stale, and the whole cache is dropped
   * when the feed goes down or comes back (messages may have been missed meanwhile).
   */
  hot?: HotCache;
  /** The process's live config: a `config.revision` from another process is applied at once, not at the next 5 s. */
  live?: LiveConfig;
}): NodeRealtime {
  let appRef: Hono<WebEnv> | null = null;
  const nodeWs = createNodeWebSocket({
    // The upgrade runs the request through the app (auth, origin check) before accepting.
    app: {
      request: (...args: Parameters<Hono<WebEnv>['request']>) => {
        if (!appRef) throw new Error('realtime: attach(app, server) was not called');
        return appRef.request(...args);
      },
    } as unknown as Hono,
  });
  const hub = new RealtimeHub({
    ...o.hub,
    log: o.log,
    // The re-check reads the credential without touching it (an open socket is not user activity, so the idle expiry
    // still applies), exactly as the AWS broadcaster re-checks the reference it stores.
    reauthenticate: async (cred) => {
      const ref = credentialRefOfSecret(cred);
      const p = ref ? await o.auth.recheckCredential(ref) : null;
      return p ? { userId: p.userId, role: p.role } : null;
    },
  });
  const feed = new RedisRealtimeFeed(
    { url: o.config.redis.url, prefix: o.config.redis.prefix, enabled: o.config.redis.enabled, log: o.log },
    {
      message: (channel, message) => {
        if (o.live && channel === CONFIG_UPDATES_CHANNEL) {
          const rev = (message as { revision?: unknown } | null)?.revision;
          if (typeof rev === 'number') o.live.noteRevision(rev);
        }
        o.hot?.invalidateForChannel(channel, message);
        hub.deliver(channel, message);
      },
      state: (s) => {
        o.hot?.clear();
        hub.announce(s);
      },
    },
  );
  return {
    deps: { hub, upgradeWebSocket: nodeWs.upgradeWebSocket },
    hub,
    feed,
    attach(app, server) {
      appRef = app;
      nodeWs.injectWebSocket(server);
    },
    async close() {
      hub.close();
      await feed.close();
      nodeWs.wss.close();
    },
  };
}

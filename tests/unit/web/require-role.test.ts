import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import type { Role } from '#shared/domain/control/roles.ts';
import { silentLogger } from '#shared/log.ts';
import type { Principal } from '#shared/services/auth-service.ts';
import type { WebEnv } from '#web/env.ts';
import { handleError } from '#web/errors.ts';
import { requireRole } from '#web/middleware/require-role.ts';
import { RecordingAudit } from '../services/support/in-memory-ports.ts';

function principal(role: Role): Principal {
  return { userId: 'U1', username: 'ann', role, via: 'session', tokenId: null, tokenExpiresAt: null, session: null };
}

function appWith(role: Role | null, audit: RecordingAudit) {
  const app = new Hono<WebEnv>();
  const config = loadConfig({});
  app.use('*', async (c, next) => {
    c.set('requestId', 'req-00000001');
    c.set('log', silentLogger());
    c.set('principal', role ? principal(role) : null);
    await next();
  });
  app.post('/api/jobs', requireRole({ audit, config }, 'operator', 'job.submit'), (c) => c.json({ ok: true }, 201));
  app.get('/api/jobs', requireRole({ audit, config }, 'viewer'), (c) => c.json({ items: [] }));
  app.onError(handleError);
  return app;
}

describe('per-route minimum role', () => {
  it('answers 401 unauthenticated without a principal', async () => {
    // Act
    const res = await appWith(null, new RecordingAudit()).request('/api/jobs');

    // Assess
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  });

  it('refuses a viewer on an operator route with 403 forbidden naming the required role, and audits the denial', async () => {
    // Prepare
    const audit = new RecordingAudit();

    // Act
    const res = await appWith('viewer', audit).request('/api/jobs', { method: 'POST' });

    // Assess
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; details: { required_role: string } } };
    expect(body.error.code).toBe('forbidden');
    expect(body.error.details.required_role).toBe('operator');
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ action: 'job.submit', outcome: 'denied', role: 'viewer' });
  });

  it('lets an admin through an operator route', async () => {
    // Act
    const res = await appWith('admin', new RecordingAudit()).request('/api/jobs', { method: 'POST' });

    // Assess
    expect(res.status).toBe(201);
  });
});

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clearSessionCookie, writeSessionCookie } from '#web/security/session-cookie.ts';

function cookieApp() {
  const app = new Hono();
  app.get('/set/:tls', (c) => {
    writeSessionCookie(c, c.req.param('tls') === 'tls', 'sid-value');
    return c.body(null, 204);
  });
  app.get('/clear/:tls', (c) => {
    clearSessionCookie(c, c.req.param('tls') === 'tls');
    return c.body(null, 204);
  });
  return app;
}

describe('session cookie', () => {
  it('is ghtrader_session with HttpOnly, SameSite=Strict and Path=/ without TLS, and not Secure', async () => {
    // Act
    const res = await cookieApp().request('/set/plain');

    // Assess
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie.startsWith('ghtrader_session=sid-value')).toBe(true);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Secure');
    expect(cookie).not.toContain('Domain');
  });

  it('is __Host-ghtrader_session and Secure over TLS', async () => {
    // Act
    const res = await cookieApp().request('/set/tls');

    // Assess
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie.startsWith('__Host-ghtrader_session=sid-value')).toBe(true);
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
  });

  it('is cleared with Max-Age=0 and the same attributes on logout', async () => {
    // Act
    const res = await cookieApp().request('/clear/tls');

    // Assess
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-ghtrader_session=;/);
    expect(cookie).toContain('Max-Age=0');
    expect(cookie).toContain('Secure');
  });
});

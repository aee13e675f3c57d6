import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { WebEnv } from '#web/env.ts';
import { hotJson } from '#web/hot-reads.ts';

describe('hotJson', () => {
  const shared = { items: [{ id: 'a', n: 1 }], text: 'ü ✓' };
  let stringified = 0;
  const counted = {
    toJSON() {
      stringified++;
      return { ok: true };
    },
  };
  const app = new Hono<WebEnv>();
  app.get('/hot', (c) => hotJson(c, shared));
  app.get('/plain', (c) => c.json(shared));
  app.get('/counted', (c) => hotJson(c, counted, { 'cache-control': 'no-store' }));
  app.get('/null', (c) => hotJson(c, null));

  it('answers exactly what c.json answers', async () => {
    const [hot, plain] = await Promise.all([app.request('/hot'), app.request('/plain')]);
    expect(hot.status).toBe(200);
    expect(hot.headers.get('content-type')).toBe(plain.headers.get('content-type'));
    expect(await hot.text()).toBe(await plain.text());
  });

  it('serializes one cached value once, however often it is sent, and keeps extra headers', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await app.request('/counted');
      expect(await r.json()).toEqual({ ok: true });
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    expect(stringified).toBe(1);
  });

  it('sends non-object values too', async () => {
    const r = await app.request('/null');
    expect(await r.text()).toBe('null');
  });
});

import { describe, expect, it } from 'vitest';
import {
  checkOrigin,
  clientIp,
  consoleOrigin,
  type ForwardingHeaders,
  isTls,
  safeNextPath,
} from '#web/security/request-origin.ts';

const direct = (over: Partial<ForwardingHeaders> = {}): ForwardingHeaders => ({
  url: 'http://127.0.0.1:8000/api/jobs',
  host: '127.0.0.1:8000',
  forwardedFor: null,
  forwardedProto: null,
  forwardedHost: null,
  ...over,
});

describe('client ip', () => {
  it('is the socket address when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(clientIp('10.0.0.9', '6.6.6.6', 0)).toBe('10.0.0.9');
  });

  it('is the entry the trusted proxy appended, counting hops from the right', () => {
    expect(clientIp('10.0.0.1', 'spoofed, 203.0.113.7', 1)).toBe('203.0.113.7');
    expect(clientIp('10.0.0.1', 'spoofed, 203.0.113.7, 10.0.0.2', 2)).toBe('203.0.113.7');
  });

  it('falls back to the socket when the header is shorter than the trusted hops', () => {
    expect(clientIp('10.0.0.1', '203.0.113.7', 2)).toBe('10.0.0.1');
    expect(clientIp(null, null, 0)).toBeNull();
  });
});

describe('console origin', () => {
  it('is scheme and Host of a direct request', () => {
    expect(consoleOrigin(direct(), 0)).toBe('http://127.0.0.1:8000');
    expect(consoleOrigin(direct({ url: 'https://console.example/x', host: 'console.example' }), 0)).toBe(
      'https://console.example',
    );
  });

  it('ignores X-Forwarded-* unless a proxy is trusted', () => {
    // Prepare
    const h = direct({ forwardedProto: 'https', forwardedHost: 'evil.example' });

    // Act + Assess
    expect(consoleOrigin(h, 0)).toBe('http://127.0.0.1:8000');
    expect(isTls(h, 0)).toBe(false);
  });

  it('uses the trusted proxy view of scheme and host', () => {
    // Prepare
    const h = direct({ host: 'internal:8000', forwardedProto: 'https', forwardedHost: 'console.example' });

    // Act + Assess
    expect(isTls(h, 1)).toBe(true);
    expect(consoleOrigin(h, 1)).toBe('https://console.example');
  });
});

describe('origin check for state-changing browser requests', () => {
  const expected = 'http://127.0.0.1:8000';

  it('accepts the console origin, case-insensitively', () => {
    expect(checkOrigin('http://127.0.0.1:8000', null, expected)).toEqual({ ok: true });
    expect(checkOrigin('HTTP://127.0.0.1:8000', 'cross-site', expected)).toEqual({ ok: true });
  });

  it('refuses a foreign or opaque origin even when Sec-Fetch-Site claims same-origin', () => {
    expect(checkOrigin('http://evil.example', 'same-origin', expected).ok).toBe(false);
    expect(checkOrigin('null', null, expected).ok).toBe(false);
    expect(checkOrigin('http://127.0.0.1:8001', null, expected).ok).toBe(false);
  });

  it('accepts Sec-Fetch-Site: same-origin when no Origin is sent, and nothing else', () => {
    expect(checkOrigin(null, 'same-origin', expected)).toEqual({ ok: true });
    expect(checkOrigin(null, 'same-site', expected).ok).toBe(false);
    expect(checkOrigin(null, null, expected).ok).toBe(false);
  });
});

describe('post-login return path', () => {
  it.each([
    ['/v/cu/jobs?status=running', '/v/cu/jobs?status=running'],
    ['//evil.example/x', null],
    ['/\\evil.example', null],
    ['https://evil.example', null],
    ['/\t/evil.example', null],
    ['', null],
    [undefined, null],
  ])('%s -> %s', (input, expected) => {
    expect(safeNextPath(input)).toBe(expected);
  });
});

import { describe, expect, it } from 'vitest';
import {
  CreateTokenRequestSchema,
  CreateUserRequestSchema,
  LoginRequestSchema,
  minRole,
  rateWindow,
  sessionVerdict,
  UpdateUserRequestSchema,
} from '#shared/domain/control/auth.ts';

const T0 = Date.parse('2025-01-02T03:00:00.000Z');
const limits = { idleS: 7200, maxS: 43200 };
const iso = (ms: number) => new Date(ms).toISOString();

describe('session expiry (checked in code, never by TTL)', () => {
  it('accepts a fresh session and reports its idle and absolute deadlines', () => {
    // Act
    const v = sessionVerdict({ created_at: iso(T0), last_seen_at: iso(T0) }, T0 + 10_000, limits);

    // Assess
    expect(v).toEqual({
      valid: true,
      expiresAtMs: T0 + 10_000 + 7200_000,
      absoluteMs: T0 + limits.maxS * 1000,
      touchDue: false,
    });
  });

  it('asks for a last_seen_at write at most once per minute', () => {
    // Act
    const early = sessionVerdict({ created_at: iso(T0), last_seen_at: iso(T0) }, T0 + 59_000, limits);
    const due = sessionVerdict({ created_at: iso(T0), last_seen_at: iso(T0) }, T0 + 60_000, limits);

    // Assess
    expect(early.valid && early.touchDue).toBe(false);
    expect(due.valid && due.touchDue).toBe(true);
  });

  it('expires after 2 h idle', () => {
    expect(sessionVerdict({ created_at: iso(T0), last_seen_at: iso(T0) }, T0 + 7200_000, limits)).toEqual({
      valid: false,
      reason: 'idle',
    });
  });

  it('expires 12 h after creation however active it was', () => {
    // Prepare
    const seen = T0 + 43_100_000;

    // Act
    const v = sessionVerdict({ created_at: iso(T0), last_seen_at: iso(seen) }, T0 + 43_200_000, limits);

    // Assess
    expect(v).toEqual({ valid: false, reason: 'absolute' });
  });

  it('never reports a deadline beyond the absolute expiry', () => {
    // Act
    const v = sessionVerdict({ created_at: iso(T0), last_seen_at: iso(T0 + 43_000_000) }, T0 + 43_100_000, limits);

    // Assess
    expect(v.valid && v.expiresAtMs).toBe(T0 + 43_200_000);
  });
});

describe('login rate-limit windows', () => {
  it('uses fixed windows and tells how long until the window ends', () => {
    // Act
    const w = rateWindow(Date.parse('2025-01-02T03:05:00.000Z'), 900);

    // Assess: 03:05 lies in the 03:00–03:15 window, which ends in 600 s.
    expect(w.retryAfterS).toBe(600);
    expect(w.endS * 1000).toBe(Date.parse('2025-01-02T03:15:00.000Z'));
    expect(rateWindow(Date.parse('2025-01-02T03:14:59.999Z'), 900).index).toBe(w.index);
    expect(rateWindow(Date.parse('2025-01-02T03:15:00.000Z'), 900).index).toBe(w.index + 1);
  });
});

describe('roles and identity schemas', () => {
  it('gives a token the lower of its own and its owner role', () => {
    expect(minRole('admin', 'viewer')).toBe('viewer');
    expect(minRole('operator', 'admin')).toBe('operator');
    expect(minRole('operator', 'operator')).toBe('operator');
  });

  it('lowercases usernames and requires passwords of at least 12 characters', () => {
    // Act
    const ok = CreateUserRequestSchema.safeParse({ username: ' Alice.B ', password: 'x'.repeat(12), role: 'viewer' });
    const shortPw = CreateUserRequestSchema.safeParse({ username: 'alice', password: 'x'.repeat(11), role: 'viewer' });
    const badName = CreateUserRequestSchema.safeParse({ username: 'a b', password: 'x'.repeat(12), role: 'viewer' });
    const extra = CreateUserRequestSchema.safeParse({
      username: 'alice',
      password: 'x'.repeat(12),
      role: 'viewer',
      admin: true,
    });

    // Assess
    expect(ok.success && ok.data.username).toBe('alice.b');
    expect(shortPw.success).toBe(false);
    expect(badName.success).toBe(false);
    expect(extra.success).toBe(false);
  });

  it('defaults token lifetimes to 90 days and caps them at 365', () => {
    expect(CreateTokenRequestSchema.parse({ name: 'ci', role: 'viewer' }).expires_in_days).toBe(90);
    expect(CreateTokenRequestSchema.safeParse({ name: 'ci', role: 'viewer', expires_in_days: 366 }).success).toBe(
      false,
    );
    expect(CreateTokenRequestSchema.safeParse({ name: 'ci', role: 'root' }).success).toBe(false);
  });

  it('accepts any login username shape (unknown names are 401, not 400) but no extra fields', () => {
    expect(LoginRequestSchema.safeParse({ username: 'Some One', password: 'p' }).success).toBe(true);
    expect(LoginRequestSchema.safeParse({ username: 'x', password: 'p', remember: true }).success).toBe(false);
  });

  it('requires a role or disabled flag in a user update', () => {
    expect(UpdateUserRequestSchema.safeParse({}).success).toBe(false);
    expect(UpdateUserRequestSchema.safeParse({ disabled: true }).success).toBe(true);
  });
});

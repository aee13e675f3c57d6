import { describe, expect, it } from 'vitest';
import { emfRecord } from '#shared/domain/control/emf.ts';

describe('emfRecord', () => {
  it('counts a status of 500 or more as one server error, and rounds latency to the microsecond', () => {
    const base = {
      route: 'GET /api/status',
      latencyMs: 1.23456,
      timestampMs: 1_800_000_000_000.4,
      service: 'http-api',
    };
    expect(emfRecord({ ...base, status: 503 })).toMatchObject({
      _aws: { Timestamp: 1_800_000_000_000 },
      Route: 'GET /api/status',
      latency_ms: 1.235,
      server_errors: 1,
      status: 503,
    });
    expect(emfRecord({ ...base, status: 499 }).server_errors).toBe(0);
  });
});

/** Injected time source so domain code and services can be tested without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** UTC ISO-8601 with milliseconds and `Z`: the control-plane timestamp format (sorts lexicographically). */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parse a control-plane timestamp back to epoch ms; throws on anything that is not a valid instant. */
export function parseIsoUtc(iso: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`expected an ISO-8601 UTC instant, found ${JSON.stringify(iso)}`);
  return ms;
}

/** main_l5 build ids (data-chain §5.1.1): the first 12 hex digits of a random UUID. */
import { MainL5InputError } from './errors.ts';

const BUILD_ID = /^[0-9a-f]{12}$/;

/**
 * `build_id` = 12 lowercase hex of a random UUID (dashes removed), e.g. `newBuildId(crypto.randomUUID)`. The
 * generator is injected so the domain stays pure and tests are deterministic.
 */
export function newBuildId(randomUUID: () => string): string {
  const uuid = randomUUID();
  const hex = uuid.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new MainL5InputError(`not a UUID: ${JSON.stringify(uuid)}`);
  return hex.slice(0, 12);
}

/** Whether `id` has the shape of a main_l5 build id. */
export function isBuildId(id: string): boolean {
  return BUILD_ID.test(id);
}

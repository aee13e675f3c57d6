/**
 * A console session written straight to the Users table as if created and last seen at given times (tests of idle and
 * absolute expiry cannot wait hours); the store and item shape are the production ones.
 */
import { randomBytes } from 'node:crypto';
import { sessionKey } from '#shared/domain/control/auth.ts';
import { sha256HexOf } from '#shared/domain/control/auth-secrets.ts';
import { isoUtc } from '#shared/domain/time.ts';
import type { DynamoUserStore } from '#shared/infra/aws/user-store.ts';

/** Put a session of `userId` created at `createdMs` and last seen at `seenMs`; returns its id and id hash. */
export async function storeSession(
  users: DynamoUserStore,
  userId: string,
  createdMs: number,
  seenMs: number,
): Promise<{ sessionId: string; idSha256: string }> {
  const sessionId = randomBytes(32).toString('base64url');
  const idSha256 = sha256HexOf(sessionId);
  await users.putSession({
    pk: sessionKey(idSha256),
    item_type: 'session',
    user_id: userId,
    csrf_token: randomBytes(32).toString('base64url'),
    created_at: isoUtc(createdMs),
    last_seen_at: isoUtc(seenMs),
    expires_at_s: Math.ceil(Date.now() / 1000) + 86_400,
  });
  return { sessionId, idSha256 };
}

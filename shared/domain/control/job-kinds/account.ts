/**
 * Account job kinds (control-chain §4). `account.verify` logs in to a profile's broker account with a monitor-only
 * DIFF session and reports the account numbers; its handler lives in `shared/services/account-verify.ts`. It never
 * takes the gateway's lease `trade:account=<p>`: a submission while that lease is held is refused (409 `lock_held`),
 * since a second login beside a running gateway could end the gateway's broker session.
 */
import * as z from 'zod';
import { ProfileSchema } from '../desired.ts';
import { gatewayLeaseKey } from '../locks.ts';
import { defineJobKind } from './types.ts';

/** The lock a verification of `profile` holds (one verification per account at a time). */
export const accountVerifyLockKey = (profile: string) => `verify:account=${profile}`;

/** `timeout_s`' default and bounds: the whole check (discovery, login, account snapshot) must finish within it. */
export const VERIFY_TIMEOUT_S = { default: 20, min: 1, max: 60 } as const;

export const accountVerify = defineJobKind({
  kind: 'account.verify',
  description:
    'Log in to the broker account of a profile with a monitor-only session and report its balance and counts',
  params: z
    .object({
      account_profile: ProfileSchema,
      timeout_s: z.number().int().min(VERIFY_TIMEOUT_S.min).max(VERIFY_TIMEOUT_S.max).default(VERIFY_TIMEOUT_S.default),
    })
    .strict(),
  // Two verifications of one account in flight answer the same question: the second one is deduped onto the first.
  identity: (p) => ({ account_profile: p.account_profile }),
  locks: (p) => [accountVerifyLockKey(p.account_profile)],
  refuseWhileHeld: (p) => [gatewayLeaseKey(p.account_profile)],
  var: () => 'none',
  sourceBound: true,
  // The check itself is bounded by timeout_s (≤ 60 s); the rest is the session's close and the state write.
  timeoutS: 120,
  submittable: true,
});

export const ACCOUNT_JOB_KINDS = [accountVerify] as const;

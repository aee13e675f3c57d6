import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * The item a failed conditional write saw (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), unmarshalled; null
 * when the item did not exist. Returns undefined when `err` is not a conditional-check failure.
 */
export function conditionFailedItem(err: unknown): Record<string, unknown> | null | undefined {
  if (!(err instanceof ConditionalCheckFailedException)) {
    // Some emulators surface the error with the right name but another class instance.
    if ((err as { name?: string } | null)?.name !== 'ConditionalCheckFailedException') return undefined;
  }
  const raw = (err as { Item?: Record<string, unknown> }).Item;
  if (!raw || Object.keys(raw).length === 0) return null;
  // biome-ignore lint/suspicious/noExplicitAny: the SDK types Item as AttributeValue map; unmarshall checks it.
  return unmarshall(raw as any);
}

export function isConditionFailed(err: unknown): boolean {
  return conditionFailedItem(err) !== undefined;
}

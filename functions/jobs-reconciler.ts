/** Lambda handler run every minute by EventBridge: re-enqueue or fail jobs whose worker vanished. */
import { lambdaRuntime } from './lambda-runtime.ts';

export const handler = async (): Promise<{ requeued: number; failed: number; cancelled: number }> => {
  const rt = await lambdaRuntime('jobs-reconciler');
  return rt.recovery.reconcile();
};

/**
 * Lambda handler run every minute by EventBridge: re-enqueue or fail jobs whose worker vanished, and (data chain
 * configured) enqueue the finalize of main_l5 builds past their deadline.
 */
import { sweepOverdueBuilds } from './lambda-data.ts';
import { lambdaRuntime } from './lambda-runtime.ts';

export const handler = async (): Promise<{
  requeued: number;
  failed: number;
  cancelled: number;
  builds_swept: string[];
}> => {
  const rt = await lambdaRuntime('jobs-reconciler');
  const jobs = await rt.recovery.reconcile();
  return { ...jobs, builds_swept: await sweepOverdueBuilds(rt, process.env, rt.log) };
};

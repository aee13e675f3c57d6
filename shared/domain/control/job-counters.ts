/**
 * Process-local job counters for `/api/observability/runtime` (control-chain §10 `jobs`): submissions, dedupe hits
 * and claim conflicts since this process started. One instance is shared by the process's `JobService` and workers.
 */
export class JobCounters {
  submitted = 0;
  deduped = 0;
  claimConflicts = 0;

  snapshot(): { submitted_total: number; deduped_total: number; claim_conflicts_total: number } {
    return {
      submitted_total: this.submitted,
      deduped_total: this.deduped,
      claim_conflicts_total: this.claimConflicts,
    };
  }
}

/**
 * The dashboard's pipeline strip (control-chain §8): Calendar -> Schedule -> main_l5 -> Validate -> Features ->
 * Labels -> Train, one status per stage from what the data chain recorded (its reports and the last job of each kind
 * for the variety). Pure: the caller reads the stores; nothing here guesses a state it was not given.
 */
import type { JobSummary } from './jobs.ts';

export const PIPELINE_STAGE_IDS = [
  'calendar',
  'schedule',
  'main_l5',
  'validate',
  'features',
  'labels',
  'train',
] as const;
export type PipelineStageId = (typeof PIPELINE_STAGE_IDS)[number];

/** `running` covers queued and running jobs; `none`: nothing has run yet; `not_built`: the stage does not exist yet. */
export type StageState = 'ok' | 'warn' | 'error' | 'running' | 'none' | 'not_built';

/** The job kind behind each data stage (its last job is linked from the strip). */
export const STAGE_JOB_KIND = {
  calendar: 'data.calendar',
  schedule: 'data.schedule',
  main_l5: 'data.main_l5',
  validate: 'data.validate',
} as const satisfies Partial<Record<PipelineStageId, string>>;
export type StageJobKind = (typeof STAGE_JOB_KIND)[keyof typeof STAGE_JOB_KIND];

export interface PipelineStage {
  id: PipelineStageId;
  label: string;
  state: StageState;
  text: string;
  /** The last job of the stage's kind for this variety, when there is one. */
  job: Pick<JobSummary, 'job_id' | 'status' | 'finished_at' | 'error_code'> | null;
}

/** A stage's report section: present, absent (never ran), or unreadable (its error message). */
export type Reported<T> = { status: 'ok'; data: T } | { status: 'none' } | { status: 'error'; message: string };

export interface PipelineInput {
  /** Today's date in exchange time (`YYYY-MM-DD`). */
  today: string;
  /** Last day the trading calendar covers, or null without a data chain. */
  calendarCoversTo: string | null;
  lastJobs: Partial<Record<StageJobKind, JobSummary | null>>;
  schedule: Reported<{ healthOk: boolean | null; days: number; end: string }>;
  build: Reported<{ status: string; daysWritten: number | null; gate: string | null }>;
  validation: Reported<{ state: 'ok' | 'warn' | 'error' | 'noop'; reasonCode: string }>;
}

const LABELS: Record<PipelineStageId, string> = {
  calendar: 'Calendar',
  schedule: 'Schedule',
  main_l5: 'main_l5',
  validate: 'Validate',
  features: 'Features',
  labels: 'Labels',
  train: 'Train',
};

const NOT_BUILT = 'not built yet: features, labels and training arrive with the data chain II issue';

/** Days from `a` to `b` (`YYYY-MM-DD`). */
function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** The calendar stage: its coverage left, unless its last `data.calendar` job (for every variety) is active or failed. */
function calendarStage(input: PipelineInput): Omit<PipelineStage, 'id' | 'label'> {
  const to = input.calendarCoversTo;
  const coverage: Reported<{ to: string }> = to ? { status: 'ok', data: { to } } : { status: 'none' };
  return dataStage(
    input.lastJobs['data.calendar'],
    coverage,
    (c) => {
      const left = daysBetween(input.today, c.to);
      if (left < 0) return { state: 'error', text: `ends ${c.to}, before today: refresh the calendar` };
      if (left < 30) return { state: 'warn', text: `ends ${c.to} (${left} days left): refresh the calendar` };
      return { state: 'ok', text: `covers through ${c.to}` };
    },
    'no trading calendar in this process',
  );
}

/**
 * A data stage: an active last job wins (`running`), then a failed one (`error`), then the report's own state;
 * without either, `none`.
 */
function dataStage<T>(
  job: JobSummary | null | undefined,
  report: Reported<T>,
  fromReport: (data: T) => { state: StageState; text: string },
  noneText: string,
): Omit<PipelineStage, 'id' | 'label'> {
  const link = job
    ? { job_id: job.job_id, status: job.status, finished_at: job.finished_at, error_code: job.error_code }
    : null;
  if (job && (job.status === 'queued' || job.status === 'running')) {
    const pct = job.pct === null ? '' : ` ${Math.round(job.pct * 100)}%`;
    return { state: 'running', text: `${job.status}${pct}`, job: link };
  }
  if (job?.status === 'failed') {
    return { state: 'error', text: `last job failed${job.error_code ? ` (${job.error_code})` : ''}`, job: link };
  }
  if (report.status === 'error') return { state: 'error', text: `report unreadable: ${report.message}`, job: link };
  if (report.status === 'none') return { state: 'none', text: noneText, job: link };
  return { ...fromReport(report.data), job: link };
}

export function pipelineStages(input: PipelineInput): PipelineStage[] {
  const stages: Record<PipelineStageId, Omit<PipelineStage, 'id' | 'label'>> = {
    calendar: calendarStage(input),
    schedule: dataStage(
      input.lastJobs['data.schedule'],
      input.schedule,
      (s) =>
        s.healthOk === false
          ? { state: 'warn', text: `${s.days} days to ${s.end}; health problems` }
          : { state: 'ok', text: `${s.days} days to ${s.end}` },
      'no schedule yet: run data.schedule',
    ),
    main_l5: dataStage(
      input.lastJobs['data.main_l5'],
      input.build,
      (b) => {
        const days = b.daysWritten === null ? '' : `, ${b.daysWritten} days written`;
        // Builds are `promoted` (health and validation gate passed) or `rejected` (main-l5 finalize).
        if (b.status === 'rejected' || b.gate === 'error') {
          return {
            state: 'error',
            text: `build ${b.status}${days}${b.gate === 'error' ? '; validation gate failed' : ''}`,
          };
        }
        return { state: b.status === 'promoted' ? 'ok' : 'warn', text: `build ${b.status}${days}` };
      },
      'nothing built yet: run data.main_l5',
    ),
    validate: dataStage(
      input.lastJobs['data.validate'],
      input.validation,
      (v) => ({
        state: v.state === 'noop' ? 'ok' : v.state,
        text: v.state === 'ok' || v.state === 'noop' ? 'passed' : v.reasonCode,
      }),
      'never validated: run data.validate',
    ),
    features: { state: 'not_built', text: NOT_BUILT, job: null },
    labels: { state: 'not_built', text: NOT_BUILT, job: null },
    train: { state: 'not_built', text: NOT_BUILT, job: null },
  };
  return PIPELINE_STAGE_IDS.map((id) => ({ id, label: LABELS[id], ...stages[id] }));
}

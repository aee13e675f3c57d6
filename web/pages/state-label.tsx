/** State shown as icon + text, never by colour alone (control-chain §8 accessibility minimums). */

import type { JobStatus } from '#shared/domain/control/jobs.ts';
import type { StatusState } from '#shared/domain/control/status.ts';

const STATE: Record<StatusState, { icon: string; text: string }> = {
  ok: { icon: '✓', text: 'OK' },
  warn: { icon: '⚠', text: 'Warning' },
  error: { icon: '✖', text: 'Error' },
  empty: { icon: '○', text: 'Empty' },
  unknown: { icon: '?', text: 'Unknown' },
};

export const JOB_STATUS: Record<JobStatus, { icon: string; text: string }> = {
  queued: { icon: '◷', text: 'Queued' },
  running: { icon: '▶', text: 'Running' },
  succeeded: { icon: '✓', text: 'Succeeded' },
  failed: { icon: '✖', text: 'Failed' },
  cancelled: { icon: '⊘', text: 'Cancelled' },
};

export function StateLabel(props: { state: StatusState }) {
  const s = STATE[props.state];
  return (
    <span class={`state state-${props.state}`}>
      <span aria-hidden="true">{s.icon}</span> {s.text}
    </span>
  );
}

export function JobStatusLabel(props: { status: JobStatus; id?: string }) {
  const s = JOB_STATUS[props.status];
  return (
    <span class={`state job-${props.status}`} id={props.id} data-status={props.status}>
      <span aria-hidden="true">{s.icon}</span> {s.text}
    </span>
  );
}

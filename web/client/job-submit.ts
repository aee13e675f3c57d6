/**
 * The Jobs page's generated submit form (`JobSubmitForm` in `pages/jobs.tsx`): shows the chosen kind's fieldset (the
 * others hidden and disabled), builds `{kind, params, note?}` with `buildJobParams` from the descriptors the server put
 * in the page data (numbers, booleans, lists, parsed JSON), posts `POST /api/jobs`, and announces the created or
 * deduped job as a link in `#job-submit-result` (`aria-live`). Errors go next to their control (`aria-invalid` plus a
 * message it `aria-describedby`s): a JSON parse error before anything is posted, a 400 `validation_failed` by its
 * issues' paths (`params.<name>`, `note`, `kind`), anything else in `#job-submit-error`.
 */
import {
  buildJobParams,
  idPart,
  issuesByField,
  type JobFormField,
  type JobFormKind,
  jobFieldId,
} from '#shared/domain/control/job-form.ts';
import { ApiError, api, describe, type PageData } from './api.ts';

interface JobsPageData extends PageData {
  job_forms?: JobFormKind[];
}

interface SubmitAnswer {
  job: { job_id: string; kind: string; status: string };
  deduped: boolean;
}

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function setError(controlId: string, message: string | null): void {
  const control = document.getElementById(controlId);
  const error = document.getElementById(`${controlId}-error`);
  if (control) {
    if (message) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  }
  if (error) {
    error.textContent = message ? `✖ ${message}` : '';
    error.hidden = !message;
  }
}

function readControl(kind: string, field: JobFormField): string | boolean {
  const el = document.getElementById(jobFieldId(kind, field.name)) as Control | null;
  if (!el) return '';
  if (el instanceof HTMLInputElement && el.type === 'checkbox') return el.checked;
  return el.value;
}

export function initJobSubmit(data: JobsPageData): void {
  const form = document.getElementById('job-submit-form') as HTMLFormElement | null;
  const kindSelect = document.getElementById('job-submit-kind') as HTMLSelectElement | null;
  const note = document.getElementById('job-submit-note') as HTMLInputElement | null;
  const button = document.getElementById('job-submit-button') as HTMLButtonElement | null;
  const result = document.getElementById('job-submit-result');
  const general = document.getElementById('job-submit-error');
  const kinds = new Map((data.job_forms ?? []).map((k) => [k.kind, k]));
  if (!form || !kindSelect || kinds.size === 0) return;
  const variety = data.variety ?? 'cu';

  const showGeneral = (messages: string[]) => {
    if (!general) return;
    general.textContent = messages.length > 0 ? `✖ ${messages.join('; ')}` : '';
    general.hidden = messages.length === 0;
  };

  const clearErrors = () => {
    for (const k of kinds.values()) for (const f of k.fields) setError(jobFieldId(k.kind, f.name), null);
    setError('job-submit-kind', null);
    setError('job-submit-note', null);
    showGeneral([]);
  };

  const showKind = () => {
    for (const fs of form.querySelectorAll<HTMLFieldSetElement>('fieldset[data-kind]')) {
      const on = fs.dataset.kind === kindSelect.value;
      fs.hidden = !on;
      fs.disabled = !on;
    }
  };

  /** Put each message next to its control and focus the first one. */
  const showFieldErrors = (kind: string, errors: Record<string, string[]>) => {
    let first: HTMLElement | null = null;
    for (const [name, messages] of Object.entries(errors)) {
      const id = jobFieldId(kind, name);
      setError(id, messages.join('; '));
      first ??= document.getElementById(id);
    }
    first?.focus();
  };

  kindSelect.addEventListener('change', () => {
    clearErrors();
    showKind();
  });
  showKind();

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors();
    const def = kinds.get(kindSelect.value);
    if (!def) {
      setError('job-submit-kind', `unknown kind ${kindSelect.value}`);
      return;
    }
    const built = buildJobParams(def.fields, (f) => readControl(def.kind, f));
    if (!built.ok) {
      showFieldErrors(def.kind, Object.fromEntries(Object.entries(built.errors).map(([k, m]) => [k, [m]])));
      return;
    }
    const noteText = note?.value.trim() ?? '';
    const body = { kind: def.kind, params: built.params, ...(noteText ? { note: noteText } : {}) };
    if (button) button.disabled = true;
    if (result) result.textContent = `Submitting ${def.kind}…`;
    api<SubmitAnswer>('POST', '/api/jobs', body)
      .then((r) => {
        if (!result) return;
        const link = document.createElement('a');
        link.href = `/v/${variety}/jobs/${encodeURIComponent(r.job.job_id)}`;
        link.textContent = r.job.job_id;
        link.id = `job-submit-link-${idPart(r.job.job_id)}`;
        result.replaceChildren(
          r.deduped ? `An identical ${r.job.kind} job is already ${r.job.status}: ` : `Created ${r.job.kind} job `,
          link,
          r.deduped ? ' (not submitted again).' : '.',
        );
      })
      .catch((err: unknown) => {
        if (result) result.textContent = '';
        const issues =
          err instanceof ApiError && err.code === 'validation_failed' && Array.isArray(err.details.issues)
            ? (err.details.issues as { path: (string | number)[]; message: string }[])
            : null;
        if (!issues) {
          showGeneral([describe(err)]);
          return;
        }
        const mapped = issuesByField(issues, def.fields);
        if (mapped.kind.length > 0) setError('job-submit-kind', mapped.kind.join('; '));
        if (mapped.note.length > 0) setError('job-submit-note', mapped.note.join('; '));
        showGeneral(
          mapped.general.length > 0 || Object.keys(mapped.fields).length === 0
            ? [describe(err), ...mapped.general]
            : [],
        );
        showFieldErrors(def.kind, mapped.fields);
      })
      .finally(() => {
        if (button) button.disabled = false;
      });
  });
}

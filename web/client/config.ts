/**
 * Config page (admin actions): the "set KEY = VALUE" form posts `POST /api/config/set` with the rendered head as
 * `expected_revision` and the required reason; the row "Edit" buttons fill that form; the history's
 * rollback buttons post `POST /api/config/rollback` after a prompt for the (required) reason. The server validates everything: its error
 * message is shown next to the form (and as a toast). A write that changed something reloads the page on the new
 * revision; an unchanged value says so without reloading. For every role, a `config.revision` newer than the rendered
 * head (live on the `config` topic, or read from `/api/config/history` when polling) reveals "a newer revision N exists
 * — reload".
 */
import { ApiError, api, describe, type PageData, toast } from './api.ts';
import type { Envelope, LiveTopic } from './live.ts';

interface ConfigPageData extends PageData {
  head_revision?: number;
  can_admin?: boolean;
  /** Registry key -> expected type and bounds in words. */
  expected?: Record<string, string>;
}

interface WriteResult {
  revision: number;
  config_hash: string;
  changed_keys: string[];
  changed: boolean;
  rollback_to?: number;
}

const SCOPE_SUFFIX = /(_(CU|AU|AG))?(_(DAY|NIGHT))?$/;

/** The registry key behind a possibly scoped key (`K_CU_DAY` -> `K`), when the registry knows it. */
export function baseKeyOf(key: string, expected: Record<string, string>): string | null {
  if (expected[key] !== undefined) return key;
  const base = key.replace(SCOPE_SUFFIX, '');
  return expected[base] !== undefined ? base : null;
}

function savedUrl(revision: number): string {
  const u = new URL(window.location.href);
  u.searchParams.set('saved', String(revision));
  u.hash = '';
  return u.toString();
}

/** Reveal the "newer revision" notice when `revision` is past the rendered head. */
function noteRevision(head: number | undefined, revision: unknown): void {
  if (typeof head !== 'number' || typeof revision !== 'number' || revision <= head) return;
  const notice = document.getElementById('config-newer');
  const text = document.getElementById('config-newer-text');
  if (!notice || !text) return;
  text.textContent = `A newer revision ${revision} exists`;
  const link = notice.querySelector('a');
  if (link) {
    const u = new URL(window.location.href);
    u.searchParams.delete('saved');
    u.hash = '';
    link.href = u.toString();
  }
  notice.hidden = false;
}

function liveConfig(head: number | undefined): LiveTopic {
  return {
    topic: 'config',
    apply(env: Envelope) {
      if (env.type === 'config.revision') noteRevision(head, (env.payload as { revision?: unknown }).revision);
    },
    async refetch() {
      const h = await api<{ items: { revision: number }[] }>('GET', '/api/config/history?limit=1');
      noteRevision(head, h.items[0]?.revision);
    },
  };
}

export function initConfigPage(data: ConfigPageData): LiveTopic[] {
  const head = data.head_revision;
  const topics = [liveConfig(head)];
  if (!data.can_admin) return topics;
  const expected = data.expected ?? {};
  const form = document.getElementById('config-set-form') as HTMLFormElement | null;
  const keyInput = document.getElementById('config-set-key') as HTMLInputElement | null;
  const valueInput = document.getElementById('config-set-value') as HTMLInputElement | null;
  const removeInput = document.getElementById('config-set-remove') as HTMLInputElement | null;
  const reasonInput = document.getElementById('config-set-reason') as HTMLInputElement | null;
  const hint = document.getElementById('config-set-expected');
  const errorEl = document.getElementById('config-set-error');
  const submit = document.getElementById('config-set-submit') as HTMLButtonElement | null;

  const showError = (message: string | null) => {
    if (!errorEl) return;
    errorEl.textContent = message ? `✖ ${message}` : '';
    errorEl.hidden = !message;
    keyInput?.setAttribute('aria-invalid', message ? 'true' : 'false');
  };

  const updateHint = () => {
    if (!hint || !keyInput) return;
    const key = keyInput.value.trim();
    const base = key ? baseKeyOf(key, expected) : null;
    hint.textContent = !key
      ? ''
      : base
        ? `${key}: expected ${expected[base]}`
        : `${key} is not a managed key; the server will refuse it.`;
  };

  const syncRemove = () => {
    if (valueInput && removeInput) {
      valueInput.disabled = removeInput.checked;
      valueInput.required = !removeInput.checked;
    }
  };

  keyInput?.addEventListener('input', updateHint);
  removeInput?.addEventListener('change', syncRemove);
  syncRemove();

  for (const button of document.querySelectorAll<HTMLButtonElement>('button.config-edit')) {
    button.addEventListener('click', () => {
      if (!keyInput || !valueInput) return;
      keyInput.value = button.dataset.configKey ?? '';
      valueInput.value = button.dataset.configValue ?? '';
      if (removeInput) removeInput.checked = button.dataset.configRemove === 'true';
      syncRemove();
      updateHint();
      showError(null);
      form?.scrollIntoView({ block: 'nearest' });
      (removeInput?.checked ? removeInput : valueInput).focus();
    });
  }

  form?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!keyInput || !valueInput) return;
    const key = keyInput.value.trim();
    const remove = removeInput?.checked ?? false;
    const reason = reasonInput?.value.trim() ?? '';
    if (!reason) {
      showError('Give a reason for this change: it is recorded with the revision and in the audit log.');
      reasonInput?.setAttribute('aria-invalid', 'true');
      reasonInput?.focus();
      return;
    }
    reasonInput?.setAttribute('aria-invalid', 'false');
    const body = {
      values: { [key]: remove ? null : valueInput.value },
      reason,
      ...(typeof head === 'number' ? { expected_revision: head } : {}),
    };
    if (remove && !window.confirm(`Remove the stored value of ${key}? It falls back to env or its default.`)) return;
    showError(null);
    if (submit) submit.disabled = true;
    api<WriteResult>('POST', '/api/config/set', body)
      .then((r) => {
        if (r.changed) {
          window.location.assign(savedUrl(r.revision));
          return;
        }
        toast(`No change: ${key} already holds that value (revision ${r.revision}).`);
      })
      .catch((err: unknown) => {
        const conflict = err instanceof ApiError && err.code === 'config_revision_conflict';
        showError(conflict ? `${describe(err)}. Reload the page to see the newer revision.` : describe(err));
        toast(describe(err), 'error');
        keyInput.focus();
      })
      .finally(() => {
        if (submit) submit.disabled = false;
      });
  });

  for (const button of document.querySelectorAll<HTMLButtonElement>('button.config-rollback')) {
    button.addEventListener('click', () => {
      const revision = Number(button.dataset.revision);
      if (!Number.isInteger(revision)) return;
      const answer = window.prompt(
        `Roll back to revision ${revision}? This writes a new revision holding its values.\nReason (required):`,
      );
      if (answer === null) return;
      const reason = answer.trim();
      if (!reason) {
        toast('Rollback not sent: a reason is required.', 'error');
        return;
      }
      button.disabled = true;
      api<WriteResult>('POST', '/api/config/rollback', {
        revision,
        reason,
        ...(typeof head === 'number' ? { expected_revision: head } : {}),
      })
        .then((r) => {
          if (r.changed) window.location.assign(savedUrl(r.revision));
          else toast(`No change: the head already holds revision ${revision}'s values.`);
        })
        .catch((err: unknown) => toast(describe(err), 'error'))
        .finally(() => {
          button.disabled = false;
        });
    });
  }
  return topics;
}

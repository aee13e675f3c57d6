/**
 * Trading page (control-chain §8 `/v/{var}/trading`): live cards and, for operators, the desired forms and Start/Stop,
 * the risk kill's Kill and Reset forms and the command form.
 *
 * - Live: the page follows `gateway:<p>` and `strategy:<p>`; any message there (`supervisor.component`,
 *   `<kind>.desired`, later `<kind>.state`) re-renders that component's state block from the server
 *   (`swapFromServer`), so the server's JSX stays the one renderer; a gateway message also re-renders the risk-kill
 *   record and the command history. Forms are never swapped: typing is not lost.
 * - Backoff deadlines (`[data-countdown-until]`) count down once a second.
 * - Desired form: the controls carry `data-field` (dotted path) and `data-kind`, and the JSON document is built from
 *   them; `live_trade` is offered only once `I_UNDERSTAND` is typed into the confirm field; a reason is required; the
 *   form's `expected_desired_revision` is the revision it was rendered from, so a concurrent change is a 409, shown next
 *   to the form. Start posts `/api/<kind>/start`; Stop asks in a modal dialog (focus trapped, restored) first.
 * - Risk kill: Kill and Reset each need a reason and a confirmation in a modal dialog, then post
 *   `/api/trading/risk-kill`; the command form shows the fields of the chosen type (`data-types`), builds `params`
 *   from them (`data-param`, `data-kind`) and posts `/api/gateway/command` after its dialog. The answer's command id
 *   and delivery are shown (plainly when DynamoDB alone took it because Redis is down) with the honest note that no
 *   gateway reports results yet; server validation errors are shown next to the form, on the named field.
 */
import { ApiError, api, describe, type PageData, toast } from './api.ts';
import { type Envelope, type LiveTopic, swapFromServer, throttle } from './live.ts';

/** The trading chain is not built: nothing on the page may pretend to be gateway state (the page shows it too). */
export const NO_GATEWAY_STATE = 'no gateway state yet: the trading chain (gateway and strategy processes) is not built';

/** What `durable_only` means for the operator (control-chain §6.1). */
export const DURABLE_ONLY_TEXT = 'Redis is down: the gateway picks it up from DynamoDB within 2 s';

/** The only accepted live confirmation (`CONFIRM_LIVE` in `shared/domain/control/desired.ts`). */
export const CONFIRM_LIVE = 'I_UNDERSTAND';
const KINDS = ['gateway', 'strategy'] as const;
type Kind = (typeof KINDS)[number];
const REFRESH_MS = 500;

interface TradingPageData extends PageData {
  profile?: string;
  can_operate?: boolean;
  available?: boolean;
  commands_wired?: boolean;
  can_command?: boolean;
}

/** `POST /api/gateway/command` and `POST /api/trading/risk-kill` -> 202 (`CommandIssued` of the command service). */
export interface CommandIssued {
  command_id: string;
  account_profile: string;
  type: string;
  issued_at: string;
  delivery: 'durable_and_stream' | 'durable_only';
  delivery_note: string;
}

/** The sentence shown after a command was accepted: its id, how it was delivered, and who executes it. */
export function issuedText(r: CommandIssued): string {
  const how =
    r.delivery === 'durable_only'
      ? `written to DynamoDB only. ${DURABLE_ONLY_TEXT}${r.delivery_note ? ` (${r.delivery_note})` : ''}.`
      : 'written to DynamoDB and the Redis command stream.';
  return (
    `Command ${r.command_id} (${r.type}) for ${r.account_profile} sent at ${r.issued_at}: ${how} ` +
    `The gateway executes it and reports the result in its state; no result will show here yet (${NO_GATEWAY_STATE}).`
  );
}

interface WriteResult {
  account_profile: string;
  desired_revision: number;
  desired: { mode: string };
  was_running?: boolean;
}

/** "in 1 min 05 s" until `untilMs`, or "elapsed" once it passed (server first paint and client ticks alike). */
export function countdownText(untilMs: number, nowMs: number): string {
  const s = Math.ceil((untilMs - nowMs) / 1000);
  if (!Number.isFinite(s) || s <= 0) return 'elapsed';
  if (s < 60) return `in ${s} s`;
  const m = Math.floor(s / 60);
  return `in ${m} min ${String(s % 60).padStart(2, '0')} s`;
}

/** The document the form describes: `data-field` paths, values read per `data-kind`; blanks leave defaults. */
export function formDocument(form: HTMLFormElement): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  const put = (path: string[], value: unknown) => {
    let cur = doc;
    for (const p of path.slice(0, -1)) {
      cur[p] ??= {};
      cur = cur[p] as Record<string, unknown>;
    }
    cur[path[path.length - 1] as string] = value;
  };
  const mode = form.querySelector<HTMLSelectElement>('[data-field="mode"]')?.value;
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-field]')) {
    const path = (el.dataset.field ?? '').split('.');
    const raw = el.value.trim();
    switch (el.dataset.kind) {
      case 'boolean':
        put(path, (el as HTMLInputElement).checked);
        break;
      case 'integer':
      case 'number':
        if (raw !== '') put(path, Number(raw));
        break;
      case 'nullable_number':
        put(path, raw === '' ? null : Number(raw));
        break;
      case 'list':
        put(
          path,
          raw
            .split(/[\s,]+/)
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        );
        break;
      case 'confirm':
        // Sent only with live_trade: anything else stores no confirmation.
        if (mode === 'live_trade') put(path, el.value);
        break;
      default:
        if (raw !== '') put(path, raw);
    }
  }
  return doc;
}

/** The server-rendered blocks of the commands part (the durable risk-kill record and the command history). */
const COMMAND_IDS = ['trading-risk-kill-state', 'trading-commands-history'];

let commandsWired = false;

function stateIds(kind: Kind): string[] {
  return kind === 'gateway' && commandsWired ? [`trading-${kind}-state`, ...COMMAND_IDS] : [`trading-${kind}-state`];
}

function liveComponent(kind: Kind, profile: string, ids: string[] = stateIds(kind)): LiveTopic {
  const refresh = () => swapFromServer(ids).then(tickCountdowns);
  const refreshSoon = throttle(refresh, REFRESH_MS);
  return {
    topic: `${kind}:${profile}`,
    apply(_env: Envelope) {
      // Payloads are complete, but the card is the server's rendering of desired + supervisor + config: re-render it.
      refreshSoon();
    },
    refetch: refresh,
  };
}

function tickCountdowns(): void {
  const now = Date.now();
  for (const el of document.querySelectorAll<HTMLElement>('[data-countdown-until]')) {
    const until = Date.parse(el.dataset.countdownUntil ?? '');
    const text = countdownText(until, now);
    if (el.textContent !== text) el.textContent = text;
  }
}

function initDesiredForm(kind: Kind, profile: string): void {
  const form = document.getElementById(`trading-${kind}-form`) as HTMLFormElement | null;
  if (!form) return;
  const errorEl = document.getElementById(`trading-${kind}-form-error`);
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  const expected = form.querySelector<HTMLInputElement>('input[name="expected_desired_revision"]');
  const reason = form.querySelector<HTMLInputElement>('input[name="reason"]');
  const modeSelect = form.querySelector<HTMLSelectElement>('[data-field="mode"]');
  const confirm = form.querySelector<HTMLInputElement>('[data-kind="confirm"]');
  const liveOption = modeSelect?.querySelector<HTMLOptionElement>('option[value="live_trade"]') ?? null;

  const showError = (message: string | null, field: HTMLElement | null = null) => {
    if (!errorEl) return;
    errorEl.textContent = message ? `✖ ${message}` : '';
    errorEl.hidden = !message;
    for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.setAttribute('aria-invalid', 'false');
    field?.setAttribute('aria-invalid', 'true');
  };

  const syncLive = () => {
    if (!liveOption || !confirm) return;
    const confirmed = confirm.value === CONFIRM_LIVE;
    // A stored live_trade stays selectable (it is what the form shows); submitting it still needs the confirmation.
    liveOption.disabled = !confirmed && !liveOption.selected;
  };
  confirm?.addEventListener('input', syncLive);
  modeSelect?.addEventListener('change', syncLive);
  syncLive();

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const desired = formDocument(form);
    if (desired.mode === 'live_trade' && confirm?.value !== CONFIRM_LIVE) {
      showError(`live_trade needs ${CONFIRM_LIVE} typed into the confirmation field`, confirm ?? null);
      confirm?.focus();
      return;
    }
    const why = reason?.value.trim() ?? '';
    if (why === '') {
      showError('a reason is required', reason ?? null);
      reason?.focus();
      return;
    }
    const rev = Number(expected?.value);
    const body = {
      account_profile: profile,
      desired,
      reason: why,
      ...(expected && expected.value !== '' && Number.isInteger(rev) ? { expected_desired_revision: rev } : {}),
    };
    showError(null);
    if (submit) submit.disabled = true;
    api<WriteResult>('POST', `/api/${kind}/desired`, body)
      .then(async (r) => {
        setFormRevision(kind, r.desired_revision);
        if (confirm) confirm.value = '';
        syncLive();
        toast(`${kind} desired revision ${r.desired_revision} saved (mode ${r.desired.mode}).`);
        await swapFromServer(stateIds(kind));
        tickCountdowns();
      })
      .catch((err: unknown) => {
        const conflict = err instanceof ApiError && err.code === 'desired_revision_conflict';
        const path = err instanceof ApiError ? firstIssuePath(err) : null;
        const field = path ? form.querySelector<HTMLElement>(`[data-field="${CSS.escape(path)}"]`) : null;
        showError(conflict ? `${describe(err)}. Reload the page to edit the newer revision.` : describe(err), field);
        toast(describe(err), 'error');
        (field ?? modeSelect)?.focus();
      })
      .finally(() => {
        if (submit) submit.disabled = false;
      });
  });
}

/** `desired.limits.max_order_size` -> `limits.max_order_size` (the first zod issue's field). */
function firstIssuePath(err: ApiError): string | null {
  const issues = err.details.issues;
  if (!Array.isArray(issues)) return null;
  const path = (issues[0] as { path?: unknown } | undefined)?.path;
  if (!Array.isArray(path) || path[0] !== 'desired' || path.length < 2) return null;
  return path.slice(1).join('.');
}

/** After this page's own write: the form now builds on that revision. */
function setFormRevision(kind: Kind, revision: number): void {
  const expected = document.querySelector<HTMLInputElement>(
    `#trading-${kind}-form input[name="expected_desired_revision"]`,
  );
  if (expected) expected.value = String(revision);
  const text = document.getElementById(`trading-${kind}-form-revision`);
  if (text) text.textContent = String(revision);
}

function afterAction(kind: Kind, r: WriteResult): Promise<void> {
  setFormRevision(kind, r.desired_revision);
  return swapFromServer(stateIds(kind)).then(tickCountdowns);
}

function initActions(kind: Kind, profile: string): void {
  const start = document.getElementById(`trading-${kind}-start`) as HTMLButtonElement | null;
  start?.addEventListener('click', () => {
    start.disabled = true;
    api<WriteResult>('POST', `/api/${kind}/start`, { account_profile: profile, reason: 'ui_start' })
      .then((r) => {
        toast(`${kind} start requested: desired ${r.desired.mode}, revision ${r.desired_revision}.`);
        return afterAction(kind, r);
      })
      .catch((err: unknown) => toast(describe(err), 'error'))
      .finally(() => {
        start.disabled = false;
      });
  });

  const stop = document.getElementById(`trading-${kind}-stop`) as HTMLButtonElement | null;
  const dialog = document.getElementById(`trading-${kind}-stop-dialog`) as HTMLDialogElement | null;
  const form = dialog?.querySelector('form') ?? null;
  const reason = dialog?.querySelector<HTMLInputElement>('input[name="reason"]') ?? null;
  if (!stop || !dialog || !form) return;
  stop.addEventListener('click', () => {
    if (reason) reason.value = '';
    dialog.showModal();
    reason?.focus();
  });
  dialog.addEventListener('close', () => stop.focus());
  dialog.querySelector<HTMLButtonElement>('button[value="cancel"]')?.addEventListener('click', (ev) => {
    ev.preventDefault();
    dialog.close('cancel');
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    dialog.close('confirm');
    stop.disabled = true;
    api<WriteResult>('POST', `/api/${kind}/stop`, {
      account_profile: profile,
      reason: reason?.value.trim() || 'ui_stop',
    })
      .then((r) => {
        toast(
          `${kind} stop requested: desired idle, revision ${r.desired_revision}; ${r.was_running ? 'it was running' : 'it was not running'}.`,
        );
        return afterAction(kind, r);
      })
      .catch((err: unknown) => toast(describe(err), 'error'))
      .finally(() => {
        stop.disabled = false;
      });
  });
}

/** Show (or clear) a form's error next to it, marking the named control `aria-invalid` (the desired form's pattern). */
function errorShower(form: HTMLFormElement, errorEl: HTMLElement | null) {
  return (message: string | null, field: HTMLElement | null = null) => {
    if (!errorEl) return;
    errorEl.textContent = message ? `✖ ${message}` : '';
    errorEl.hidden = !message;
    for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.setAttribute('aria-invalid', 'false');
    field?.setAttribute('aria-invalid', 'true');
  };
}

/**
 * A confirmation dialog like Stop's: modal (focus trapped), Cancel or Escape closes it, focus returns to `opener`.
 * Returns the function that opens it; `onConfirm` runs after the confirm button.
 */
function confirmDialog(dialog: HTMLDialogElement, opener: () => HTMLElement | null, onConfirm: () => void): () => void {
  const cancel = dialog.querySelector<HTMLButtonElement>('button[value="cancel"]');
  cancel?.addEventListener('click', (ev) => {
    ev.preventDefault();
    dialog.close('cancel');
  });
  dialog.addEventListener('close', () => opener()?.focus());
  dialog.querySelector('form')?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    dialog.close('confirm');
    onConfirm();
  });
  return () => {
    dialog.showModal();
    cancel?.focus();
  };
}

/** The field a zod issue names (`params.target`, `target` or `reason`): the control carrying that name. */
function issueField(form: HTMLFormElement, err: unknown): HTMLElement | null {
  if (!(err instanceof ApiError)) return null;
  const issues = err.details.issues;
  if (!Array.isArray(issues)) return null;
  const path = (issues[0] as { path?: unknown } | undefined)?.path;
  if (!Array.isArray(path) || path.length === 0) return null;
  const name = String(path[0] === 'params' && path.length > 1 ? path[1] : path[0]);
  return form.querySelector<HTMLElement>(`[data-param="${CSS.escape(name)}"], [name="${CSS.escape(name)}"]`);
}

/** The accepted command's id and delivery, in the result region next to the form. */
function showIssued(regionId: string, r: CommandIssued): void {
  const region = document.getElementById(regionId);
  if (!region) return;
  const p = document.createElement('p');
  p.dataset.delivery = r.delivery;
  p.dataset.commandId = r.command_id;
  const icon = document.createElement('span');
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = r.delivery === 'durable_only' ? '⚠ ' : '✓ ';
  p.className = r.delivery === 'durable_only' ? 'state state-warn' : 'state state-ok';
  p.append(icon, issuedText(r));
  region.replaceChildren(p);
}

function afterCommand(regionId: string, r: CommandIssued): Promise<void> {
  showIssued(regionId, r);
  toast(
    r.delivery === 'durable_only'
      ? `${r.type} sent (${r.command_id}); ${DURABLE_ONLY_TEXT}.`
      : `${r.type} sent (${r.command_id}).`,
  );
  return swapFromServer(COMMAND_IDS);
}

function initRiskKillForm(action: 'kill' | 'reset', profile: string): void {
  const id = action === 'kill' ? 'trading-kill' : 'trading-reset';
  const form = document.getElementById(`${id}-form`) as HTMLFormElement | null;
  const dialog = document.getElementById(`${id}-dialog`) as HTMLDialogElement | null;
  if (!form || !dialog) return;
  const reason = form.querySelector<HTMLInputElement>('input[name="reason"]');
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  const showError = errorShower(form, document.getElementById(`${id}-error`));
  const send = () => {
    const why = reason?.value.trim() ?? '';
    if (submit) submit.disabled = true;
    api<CommandIssued>('POST', '/api/trading/risk-kill', { account_profile: profile, action, reason: why })
      .then((r) => {
        if (reason) reason.value = '';
        return afterCommand('trading-risk-kill-result', r);
      })
      .catch((err: unknown) => {
        const field = issueField(form, err) ?? reason;
        showError(describe(err), field);
        toast(describe(err), 'error');
        field?.focus();
      })
      .finally(() => {
        if (submit) submit.disabled = false;
      });
  };
  const open = confirmDialog(dialog, () => submit, send);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const why = reason?.value.trim() ?? '';
    if (why === '') {
      showError('a reason is required', reason);
      reason?.focus();
      return;
    }
    showError(null);
    const shown = dialog.querySelector<HTMLElement>('[data-confirm-reason]');
    if (shown) shown.textContent = why;
    open();
  });
}

/** The params of the chosen type from its visible controls; blanks are left out (the server says what is missing). */
export function commandParams(form: HTMLFormElement, type: string): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const el of form.querySelectorAll<HTMLInputElement>('[data-param]')) {
    const wrapper = el.closest<HTMLElement>('[data-types]');
    if (!wrapper || !(wrapper.dataset.types ?? '').split(' ').includes(type)) continue;
    const name = el.dataset.param ?? '';
    const raw = el.value.trim();
    if (raw === '') continue;
    if (el.dataset.kind === 'list') {
      params[name] = raw
        .split(/[\s,]+/)
        .map((x) => x.trim())
        .filter((x) => x !== '');
    } else if (el.dataset.kind === 'integer') {
      params[name] = Number(raw);
    } else {
      params[name] = raw;
    }
  }
  return params;
}

function initCommandForm(profile: string): void {
  const form = document.getElementById('trading-command-form') as HTMLFormElement | null;
  const dialog = document.getElementById('trading-command-dialog') as HTMLDialogElement | null;
  const typeSelect = document.getElementById('trading-command-type') as HTMLSelectElement | null;
  if (!form || !dialog || !typeSelect) return;
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  const help = document.getElementById('trading-command-type-help');
  const showError = errorShower(form, document.getElementById('trading-command-error'));

  const syncType = () => {
    const type = typeSelect.value;
    for (const w of form.querySelectorAll<HTMLElement>('[data-param-field]')) {
      w.hidden = !(w.dataset.types ?? '').split(' ').includes(type);
      const input = w.querySelector<HTMLInputElement>('[data-param]');
      if (input) input.required = (w.dataset.requiredFor ?? '').split(' ').includes(type);
    }
    if (help) help.textContent = typeSelect.selectedOptions[0]?.dataset.help ?? '';
    showError(null);
  };
  typeSelect.addEventListener('change', syncType);
  syncType();

  let pending: { type: string; params: Record<string, unknown> } | null = null;
  const send = () => {
    if (!pending) return;
    const body = { account_profile: profile, ...pending };
    if (submit) submit.disabled = true;
    api<CommandIssued>('POST', '/api/gateway/command', body)
      .then((r) => afterCommand('trading-command-result', r))
      .catch((err: unknown) => {
        const field = issueField(form, err) ?? typeSelect;
        showError(describe(err), field);
        toast(describe(err), 'error');
        field.focus();
      })
      .finally(() => {
        if (submit) submit.disabled = false;
      });
  };
  const open = confirmDialog(dialog, () => submit, send);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    showError(null);
    const type = typeSelect.value;
    pending = { type, params: commandParams(form, type) };
    const set = (sel: string, text: string) => {
      const el = dialog.querySelector<HTMLElement>(sel);
      if (el) el.textContent = text;
    };
    set('[data-confirm-type]', type);
    set('[data-confirm-help]', typeSelect.selectedOptions[0]?.dataset.help ?? '');
    set('[data-confirm-params]', JSON.stringify(pending.params));
    open();
  });
}

export function initTradingPage(data: TradingPageData): LiveTopic[] {
  const profile = data.profile;
  if (!profile) return [];
  commandsWired = data.commands_wired === true;
  if (data.can_command) {
    initRiskKillForm('kill', profile);
    initRiskKillForm('reset', profile);
    initCommandForm(profile);
  }
  // Without the desired-state service the commands part still follows the gateway's messages.
  if (!data.available) return commandsWired ? [liveComponent('gateway', profile, COMMAND_IDS)] : [];
  tickCountdowns();
  setInterval(tickCountdowns, 1000);
  if (data.can_operate) {
    for (const kind of KINDS) {
      initDesiredForm(kind, profile);
      initActions(kind, profile);
    }
  }
  return KINDS.map((kind) => liveComponent(kind, profile));
}

/**
 * `/v/{var}/trading` (control-chain §8, §6): the profile selector; the Risk kill section (the durable record as the
 * gateway wrote it, state as icon and text, a `role=alert` banner with trigger, reason, since and by while KILLED) with,
 * for operators, Kill and Reset forms (required reason, confirmation dialog); the live-state section, which says
 * plainly that no gateway state exists yet (the trading chain's processes are not built, so no positions, orders or PnL
 * are shown); a gateway and a strategy card each with the desired document (every field, revision, author, reason) and
 * the supervisor's record (component status, restarts, last action and reason, backoff deadline with a countdown,
 * crash loop banner `role=alert`), and for operators the desired form generated from the document schema
 * (`live_trade` only after `I_UNDERSTAND`, a required reason, the rendered revision as `expected_desired_revision`),
 * Start, and Stop behind a confirmation dialog; the Commands section with, for operators, the command form (type plus
 * the parameter fields generated from the params schemas, behind a confirmation dialog) and, for everyone, the command
 * history with the gateway's results where it reported any. Viewers get no forms or buttons (the API answers 403
 * anyway). Without a command service the two command sections say so. The client script (`client/trading.ts`) posts
 * the forms and re-renders `#trading-<kind>-state`, `#trading-risk-kill-state` and `#trading-commands-history`.
 */
import type { ComponentStatus } from '#shared/domain/control/supervisor.ts';
import type { ComponentTelemetry } from '#shared/domain/control/supervisor-telemetry.ts';
import type { CommandHistory, CommandHistoryItem, RiskKillStatus } from '#shared/services/command-service.ts';
import type { ComponentStatusView } from '#shared/services/desired-service.ts';
import { CONFIRM_LIVE, countdownText, NO_GATEWAY_STATE } from '../client/trading.ts';
import {
  COMMAND_PARAM_FIELDS,
  type CommandParamField,
  type FieldGroup,
  FORM_COMMAND_TYPES,
  type FormCommandType,
  type FormField,
  type Loaded,
  PAGE_HISTORY_LIMIT,
  type TradingCommandsModel,
  type TradingComponentModel,
  type TradingPageModel,
} from '../routes/trading-model.ts';
import { type ChromeContext, Layout } from './layout.tsx';
import { Time } from './time-text.tsx';

export interface TradingPageProps {
  ctx: ChromeContext;
  model: TradingPageModel;
  canOperate: boolean;
}

/** The trading chain is not built: nothing on this page may pretend to be gateway state (shared with the client). */
export { NO_GATEWAY_STATE };

export const COMPONENT_STATUS_LABEL: Record<ComponentStatus, { icon: string; text: string; tone: string }> = {
  not_initialized: { icon: '○', text: 'Not initialized', tone: 'empty' },
  desired_idle: { icon: '⏸', text: 'Desired idle', tone: 'empty' },
  starting: { icon: '◷', text: 'Starting', tone: 'warn' },
  running: { icon: '▶', text: 'Running', tone: 'ok' },
  degraded: { icon: '⚠', text: 'Degraded', tone: 'warn' },
  backoff: { icon: '↻', text: 'Backoff', tone: 'warn' },
  crash_loop: { icon: '✖', text: 'Crash loop', tone: 'error' },
  stopping: { icon: '◼', text: 'Stopping', tone: 'warn' },
  externally_managed: { icon: '⇄', text: 'Externally managed', tone: 'unknown' },
};

const TITLE: Record<'gateway' | 'strategy', string> = { gateway: 'Gateway', strategy: 'Strategy' };

function ComponentStatusLabel(props: { status: ComponentStatus; id: string }) {
  const s = COMPONENT_STATUS_LABEL[props.status];
  return (
    <span class={`state state-${s.tone}`} id={props.id} data-component-status={props.status}>
      <span aria-hidden="true">{s.icon}</span> {s.text}
    </span>
  );
}

function shown(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.join(', ');
  if (typeof v === 'string') return v === '' ? '(empty)' : v;
  return String(v);
}

/** The document's fields in schema order (the form's order), nested ones as `limits.max_order_size`. */
function DesiredTable(props: { view: ComponentStatusView; form: FieldGroup[]; id: string }) {
  const { view } = props;
  if (!view.desired) {
    return (
      <p class="empty" id={`${props.id}-none`}>
        No desired {view.component} document for <code>{view.account_profile}</code> yet.
      </p>
    );
  }
  const doc = view.desired as unknown as Record<string, unknown>;
  const value = (f: FormField) => {
    let cur: unknown = doc;
    for (const p of f.path) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[p] : null;
    return cur;
  };
  return (
    <table id={props.id}>
      <caption>
        Desired {view.component} for <code>{view.account_profile}</code>, revision {view.desired_revision}
      </caption>
      <tbody>
        {props.form.flatMap((g) =>
          g.fields.map((f) => (
            <tr data-field={f.name}>
              <th scope="row">
                <code>{f.name}</code>
              </th>
              <td>{f.name === 'mode' ? <strong>{shown(value(f))}</strong> : shown(value(f))}</td>
            </tr>
          )),
        )}
        <tr>
          <th scope="row">desired_revision</th>
          <td data-col="desired_revision">{view.desired_revision}</td>
        </tr>
        <tr>
          <th scope="row">updated_at</th>
          <td>
            <Time iso={view.desired_updated_at} />
          </td>
        </tr>
        <tr>
          <th scope="row">updated_by</th>
          <td data-col="updated_by">{view.desired_updated_by}</td>
        </tr>
        <tr>
          <th scope="row">reason</th>
          <td data-col="reason">{view.desired_reason}</td>
        </tr>
      </tbody>
    </table>
  );
}

function CrashLoopBanner(props: { kind: string; sup: ComponentTelemetry }) {
  const { sup } = props;
  const exit = sup.last_exit;
  return (
    <p class="badge badge-error trading-alert" role="alert" id={`trading-${props.kind}-crash-loop`}>
      <span aria-hidden="true">✖</span> Crash loop: the supervisor on host <code>{sup.host_id}</code> stopped restarting
      the {props.kind} after {sup.budget_window.length} crashes in its window
      {exit ? (
        <>
          {' '}
          (last exit {exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`} at <Time iso={exit.at} />)
        </>
      ) : null}
      . It stays down until desired changes: an operator's Start writes a new revision.
    </p>
  );
}

function SupervisorTable(props: { model: TradingComponentModel; nowMs: number }) {
  const { status: view, restarts, kind } = props.model;
  const sup = view.supervisor;
  if (!sup) {
    return (
      <p class="empty" id={`trading-${kind}-supervisor-none`}>
        No supervisor has reported this {kind} yet.
      </p>
    );
  }
  const reasons = Object.entries(sup.restart_reasons_total).filter(([, n]) => n > 0);
  const exit = sup.last_exit;
  return (
    <table id={`trading-${kind}-supervisor`}>
      <caption>
        Supervisor record, updated <Time iso={sup.updated_at} />
      </caption>
      <tbody>
        <tr>
          <th scope="row">Host</th>
          <td>
            <code>{sup.host_id}</code> <span class="muted">(fencing token {sup.fencing_token})</span>
          </td>
        </tr>
        <tr>
          <th scope="row">State</th>
          <td>
            <ComponentStatusLabel status={sup.state} id={`trading-${kind}-supervisor-state`} />
          </td>
        </tr>
        <tr>
          <th scope="row">Restarts</th>
          <td data-col="restarts">
            {restarts}
            {reasons.length > 0 ? (
              <span class="muted"> ({reasons.map(([r, n]) => `${r} × ${n}`).join(', ')})</span>
            ) : null}
          </td>
        </tr>
        <tr>
          <th scope="row">Last action</th>
          <td data-col="last_action">
            {sup.last_action || '—'}
            {sup.last_reason ? (
              <>
                {' '}
                — reason <code>{sup.last_reason}</code>
              </>
            ) : null}
          </td>
        </tr>
        <tr>
          <th scope="row">Consecutive crashes</th>
          <td>{sup.consecutive_crashes}</td>
        </tr>
        <tr>
          <th scope="row">Backoff until</th>
          <td data-col="backoff_until">
            {sup.backoff_until ? (
              <>
                <Time iso={sup.backoff_until} /> (
                <span data-countdown-until={sup.backoff_until}>
                  {countdownText(Date.parse(sup.backoff_until), props.nowMs)}
                </span>
                )
              </>
            ) : (
              'no backoff'
            )}
          </td>
        </tr>
        <tr>
          <th scope="row">Last exit</th>
          <td>
            {exit ? (
              <>
                {exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`} at <Time iso={exit.at} />
              </>
            ) : (
              '—'
            )}
          </td>
        </tr>
        <tr>
          <th scope="row">Started / stopped</th>
          <td>
            {sup.started_total} / {sup.stopped_total}
          </td>
        </tr>
        <tr>
          <th scope="row">Heartbeat</th>
          <td>
            {sup.heartbeat ? (
              <>
                state revision {sup.heartbeat.state_revision}, <Time iso={sup.heartbeat.updated_at} />
                {sup.heartbeat.age_s === null ? null : ` (${sup.heartbeat.age_s.toFixed(0)} s old when written)`}
              </>
            ) : (
              'none seen'
            )}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

/** The part of a card that live messages re-render (`#trading-<kind>-state`). */
function ComponentState(props: { model: TradingComponentModel; nowMs: number }) {
  const { status: view, kind } = props.model;
  const sup = view.supervisor;
  return (
    <div id={`trading-${kind}-state`}>
      {view.component_status === 'crash_loop' && sup ? <CrashLoopBanner kind={kind} sup={sup} /> : null}
      <p>
        Status: <ComponentStatusLabel status={view.component_status} id={`trading-${kind}-status`} />{' '}
        <span class="muted" id={`trading-${kind}-status-text`}>
          {view.text}
        </span>
        {view.stale ? (
          <span class="state state-warn">
            {' '}
            <span aria-hidden="true">⚠</span> stale: the supervisor record is older than the console's stale age
          </span>
        ) : null}
      </p>
      <h3>Desired document</h3>
      <DesiredTable view={view} form={props.model.form} id={`trading-${kind}-desired`} />
      <h3>Supervisor</h3>
      <SupervisorTable model={props.model} nowMs={props.nowMs} />
    </div>
  );
}

function fieldHelp(f: FormField): string {
  const parts: string[] = [];
  if (f.kind === 'list') parts.push('comma-separated symbols, e.g. SHFE.cu2502, KQ.m@SHFE.cu');
  if (f.kind === 'nullable_number') parts.push('empty = none');
  if (f.min !== undefined || f.max !== undefined) {
    const lo = f.min === undefined ? '' : `${f.minExclusive ? '>' : '≥'} ${f.min}`;
    const hi = f.max === undefined ? '' : `≤ ${f.max}${f.maxKey ? ` (${f.maxKey})` : ''}`;
    parts.push([lo, hi].filter(Boolean).join(', '));
  }
  if (f.kind === 'enum' && f.options) parts.push(`one of ${f.options.join(', ')}`);
  if (f.name === 'host_id') parts.push('empty = keep the current host (a new document gets this console host)');
  if (f.default !== undefined && f.kind !== 'confirm') parts.push(`default ${shown(f.default)}`);
  return parts.join('; ');
}

function FieldControl(props: { kind: string; f: FormField; errorId: string }) {
  const { f } = props;
  const id = `trading-${props.kind}-f-${f.name.replace(/\./g, '-')}`;
  const helpId = `${id}-help`;
  const describedBy = `${helpId} ${props.errorId}`;
  const common = { id, name: f.name, 'data-field': f.name, 'data-kind': f.kind, 'aria-describedby': describedBy };
  const label = (
    <label for={id}>
      <code>{f.path[f.path.length - 1]}</code>
    </label>
  );
  const help = (
    <span class="muted field-help" id={helpId}>
      {f.kind === 'confirm'
        ? `type ${CONFIRM_LIVE} to allow mode live_trade (asked again on every live_trade write)`
        : fieldHelp(f)}
    </span>
  );
  if (f.kind === 'boolean') {
    return (
      <div class="field field-check">
        <input type="checkbox" {...common} checked={f.value === true} />
        {label}
        {help}
      </div>
    );
  }
  let control: unknown;
  if (f.kind === 'enum') {
    control = (
      <select {...common} required={f.required}>
        {(f.options ?? []).map((o) => (
          <option
            value={o}
            selected={o === f.value}
            // live_trade is offered once the confirmation is typed (client); a stored live_trade stays shown.
            disabled={o === 'live_trade' && f.value !== 'live_trade'}
          >
            {o}
          </option>
        ))}
      </select>
    );
  } else if (f.kind === 'integer' || f.kind === 'number' || f.kind === 'nullable_number') {
    control = (
      <input
        type="number"
        {...common}
        step={f.kind === 'integer' ? '1' : 'any'}
        min={f.min === undefined ? undefined : String(f.min)}
        max={f.max === undefined ? undefined : String(f.max)}
        value={f.value === null || f.value === undefined ? '' : String(f.value)}
        placeholder={f.kind === 'nullable_number' ? 'none' : undefined}
        inputmode={f.kind === 'integer' ? 'numeric' : 'decimal'}
      />
    );
  } else if (f.kind === 'list') {
    control = (
      <input
        type="text"
        {...common}
        value={Array.isArray(f.value) ? f.value.join(', ') : ''}
        autocomplete="off"
        spellcheck={false}
        size={40}
      />
    );
  } else {
    control = (
      <input
        type="text"
        {...common}
        value={typeof f.value === 'string' ? f.value : ''}
        maxlength={f.maxLength}
        autocomplete="off"
        spellcheck={false}
        placeholder={f.kind === 'confirm' ? CONFIRM_LIVE : undefined}
      />
    );
  }
  return (
    <div class="field">
      {label}
      {control}
      {help}
    </div>
  );
}

function DesiredForm(props: { model: TradingComponentModel }) {
  const { kind, status: view, form } = props.model;
  const errorId = `trading-${kind}-form-error`;
  return (
    <section aria-labelledby={`trading-${kind}-form-h`}>
      <h3 id={`trading-${kind}-form-h`}>Change desired {kind}</h3>
      <p class="muted" id={`trading-${kind}-form-help`}>
        Writes the whole document as a new revision on top of revision{' '}
        <span id={`trading-${kind}-form-revision`}>{view.desired_revision ?? 0}</span>; absent fields take their
        defaults. If someone else wrote in between, the write is refused and you reload.
      </p>
      <form
        id={`trading-${kind}-form`}
        class="trading-form"
        aria-describedby={`trading-${kind}-form-help ${errorId}`}
        novalidate
      >
        {form.map((g) =>
          g.name === null ? (
            g.fields.map((f) => <FieldControl kind={kind} f={f} errorId={errorId} />)
          ) : (
            <fieldset>
              <legend>{g.name}</legend>
              {g.fields.map((f) => (
                <FieldControl kind={kind} f={f} errorId={errorId} />
              ))}
            </fieldset>
          ),
        )}
        <ReasonField id={`trading-${kind}-reason`} errorId={errorId} />
        <input type="hidden" name="expected_desired_revision" value={String(view.desired_revision ?? 0)} />
        <button type="submit">Save desired {kind}</button>
      </form>
      <p class="form-error" id={errorId} role="alert" hidden />
    </section>
  );
}

function Actions(props: { model: TradingComponentModel }) {
  const { kind, status: view } = props.model;
  const startText =
    kind === 'gateway'
      ? 'Start makes desired active: the stored mode, or sim when it is idle or absent.'
      : 'Start makes desired run with the stored symbols and model.';
  return (
    <div class="actions trading-actions">
      <p class="muted" id={`trading-${kind}-actions-help`}>
        {startText} Stop makes desired idle; the supervisor on the document's host acts on it.
      </p>
      <button type="button" id={`trading-${kind}-start`} aria-describedby={`trading-${kind}-actions-help`}>
        <span aria-hidden="true">▶</span> Start {kind}
      </button>{' '}
      <button
        type="button"
        class="danger"
        id={`trading-${kind}-stop`}
        aria-haspopup="dialog"
        aria-describedby={`trading-${kind}-actions-help`}
      >
        <span aria-hidden="true">◼</span> Stop {kind}…
      </button>
      <dialog id={`trading-${kind}-stop-dialog`} aria-labelledby={`trading-${kind}-stop-h`}>
        <form method="dialog">
          <h3 id={`trading-${kind}-stop-h`}>
            Stop the {kind} of <code>{view.account_profile}</code>?
          </h3>
          <p>
            Desired becomes <code>idle</code>; the supervisor sends the process SIGTERM. Open orders and positions are
            the {kind === 'gateway' ? 'gateway' : 'strategy'}'s to handle on shutdown.
          </p>
          <label for={`trading-${kind}-stop-reason`}>Reason</label>{' '}
          <input
            id={`trading-${kind}-stop-reason`}
            name="reason"
            maxlength={500}
            placeholder="ui_stop"
            autocomplete="off"
          />
          <ConfirmActions label={`Stop ${kind}`} danger />
        </form>
      </dialog>
    </div>
  );
}

/** A form's required reason (≤ 500 characters; the audit entry's reason), its errors announced through `errorId`. */
function ReasonField(props: { id: string; errorId: string }) {
  return (
    <div class="field">
      <label for={props.id}>Reason (required)</label>
      <input id={props.id} name="reason" required maxlength={500} autocomplete="off" aria-describedby={props.errorId} />
    </div>
  );
}

/** A confirmation dialog's buttons: the confirming submit (`value="confirm"`, red when destructive) and Cancel. */
function ConfirmActions(props: { label: string; danger?: boolean }) {
  return (
    <div class="actions">
      <button type="submit" value="confirm" class={props.danger ? 'danger' : undefined}>
        {props.label}
      </button>{' '}
      <button type="button" value="cancel">
        Cancel
      </button>
    </div>
  );
}

function ComponentCard(props: { model: TradingComponentModel; canOperate: boolean; nowMs: number }) {
  const { kind, status: view } = props.model;
  return (
    <section class="panel trading-card" id={`trading-${kind}`} aria-labelledby={`trading-${kind}-h`}>
      <h2 id={`trading-${kind}-h`}>
        {TITLE[kind]} · <code>{view.account_profile}</code>
      </h2>
      <ComponentState model={props.model} nowMs={props.nowMs} />
      {props.canOperate ? (
        <>
          <Actions model={props.model} />
          <DesiredForm model={props.model} />
        </>
      ) : null}
    </section>
  );
}

export const RISK_KILL_LABEL: Record<RiskKillStatus['state'], { icon: string; text: string; tone: string }> = {
  ACTIVE: { icon: '✓', text: 'ACTIVE: no risk kill', tone: 'ok' },
  KILLED: { icon: '✖', text: 'KILLED: risk kill active', tone: 'error' },
};

/** What a command form's type does (trading-chain §8), shown as the type's help. */
const COMMAND_HELP: Record<FormCommandType, string> = {
  cancel_all: 'cancel every alive order on the account',
  flatten:
    'executor target 0 for the symbols (empty: every symbol with a position); sets operator overrides of 0 until cleared',
  clear_target: 'remove the operator override of the symbol (empty: every override); strategy targets apply again',
  set_target:
    "operator override of a symbol's target position (clamped by the gateway's limits; needs full permission)",
  disarm_live: 'desired mode becomes live_monitor and confirm_live is cleared; effective at once',
  ack_reconciliation: 'acknowledge the reconciliation difference the gateway reported (its diff_hash), with a note',
};

/** How to fill a parameter, by name (the bounds and which types need it are added from the schema). */
const PARAM_HINT: Record<string, string> = {
  symbols: 'comma-separated execution symbols, e.g. SHFE.cu2502, SHFE.au2506',
  symbol: 'an execution symbol, e.g. SHFE.cu2502',
  target: 'target net position in lots (long > 0, short < 0)',
  diff_hash: 'the diff_hash the gateway reported (hex)',
  note: 'why (kept with the command and the audit entry)',
};

function CommandsOff(props: { id: string; message: string }) {
  return (
    <p class="form-error" id={props.id}>
      <span aria-hidden="true">✖</span> Not available: {props.message}.
    </p>
  );
}

function ReadFailed(props: { id: string; what: string; error: string }) {
  return (
    <p class="form-error" id={props.id}>
      <span aria-hidden="true">✖</span> {props.what} could not be read: {props.error}
    </p>
  );
}

function RiskKillBanner(props: { rk: RiskKillStatus }) {
  const { rk } = props;
  return (
    <p class="badge badge-error trading-alert" role="alert" id="trading-risk-kill-banner">
      <span aria-hidden="true">✖</span> <strong>Risk kill active</strong> on <code>{rk.account_profile}</code>: trigger{' '}
      <code>{rk.trigger ?? 'unknown'}</code>, reason “{rk.reason || 'none given'}”, since <Time iso={rk.killed_at} />,
      by <code>{rk.killed_by ?? 'unknown'}</code>. The gateway only reduces positions (orders cancelled, targets 0)
      until an operator resets the kill; desired state is unchanged.
    </p>
  );
}

/** The durable record (re-rendered by the client after a post and on the gateway's live messages). */
function RiskKillState(props: { commands: TradingCommandsModel }) {
  const { commands } = props;
  if (!commands.wired) {
    return (
      <div id="trading-risk-kill-state">
        <CommandsOff id="trading-risk-kill-off" message={commands.message} />
      </div>
    );
  }
  if (!commands.riskKill.ok) {
    return (
      <div id="trading-risk-kill-state">
        <ReadFailed id="trading-risk-kill-read-error" what="The risk-kill record" error={commands.riskKill.error} />
      </div>
    );
  }
  const rk = commands.riskKill.value;
  const label = RISK_KILL_LABEL[rk.state];
  return (
    <div id="trading-risk-kill-state">
      {rk.risk_kill_active ? <RiskKillBanner rk={rk} /> : null}
      <p>
        State:{' '}
        <span class={`state state-${label.tone}`} id="trading-risk-kill-status" data-risk-kill-state={rk.state}>
          <span aria-hidden="true">{label.icon}</span> {label.text}
        </span>{' '}
        <span class="muted" id="trading-risk-kill-text">
          {rk.text}
        </span>
      </p>
      <table id="trading-risk-kill-record">
        <caption>
          Durable risk-kill record (DynamoDB; only the gateway writes it), revision {rk.revision}, read{' '}
          <Time iso={rk.generated_at} />
        </caption>
        <tbody>
          <tr>
            <th scope="row">Trigger (last kill)</th>
            <td data-col="trigger">{rk.trigger ?? '—'}</td>
          </tr>
          <tr>
            <th scope="row">Reason (last kill)</th>
            <td data-col="reason">{rk.reason || '—'}</td>
          </tr>
          <tr>
            <th scope="row">Last killed</th>
            <td data-col="killed">
              <Time iso={rk.killed_at} />
              {rk.killed_by ? <> by {rk.killed_by}</> : null}
            </td>
          </tr>
          <tr>
            <th scope="row">Last reset</th>
            <td data-col="reset">
              <Time iso={rk.reset_at} />
              {rk.reset_by ? <> by {rk.reset_by}</> : null}
              {rk.reset_note ? <> — “{rk.reset_note}”</> : null}
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function RiskKillForm(props: { action: 'kill' | 'reset'; profile: string }) {
  const kill = props.action === 'kill';
  const id = kill ? 'trading-kill' : 'trading-reset';
  const errorId = `${id}-error`;
  return (
    <div class="trading-actions">
      <form
        id={`${id}-form`}
        class="trading-form"
        data-risk-kill-action={props.action}
        aria-labelledby={`${id}-h`}
        aria-describedby={`${id}-help ${errorId}`}
        novalidate
      >
        <h3 id={`${id}-h`}>{kill ? 'Kill' : 'Reset risk kill'}</h3>
        <p class="muted" id={`${id}-help`}>
          {kill
            ? 'Sends the command kill (trigger operator): the gateway cancels every alive order, sets every target to 0 and trades reduce-only until a reset. Desired state is not changed.'
            : 'Sends the command reset_risk_kill: the gateway sets the record back to ACTIVE (accepted in every mode, also while disconnected); a limit still breached kills again, visibly.'}
        </p>
        <ReasonField id={`${id}-reason`} errorId={errorId} />
        <button type="submit" class={kill ? 'danger' : undefined} aria-haspopup="dialog">
          <span aria-hidden="true">{kill ? '✖' : '↺'}</span> {kill ? 'Kill…' : 'Reset risk kill…'}
        </button>
      </form>
      <p class="form-error" id={errorId} role="alert" hidden />
      <dialog id={`${id}-dialog`} aria-labelledby={`${id}-dialog-h`}>
        <form method="dialog">
          <h3 id={`${id}-dialog-h`}>
            {kill ? 'Trigger a risk kill on ' : 'Reset the risk kill of '}
            <code>{props.profile}</code>?
          </h3>
          <p>
            {kill
              ? 'The gateway cancels every alive order and flattens every position, then only reduces until an operator resets the kill.'
              : 'The gateway resumes trading on targets it receives after the reset; targets and overrides received before it are discarded.'}
          </p>
          <p>
            Reason: “<span data-confirm-reason></span>”
          </p>
          <ConfirmActions label={kill ? `Kill ${props.profile}` : `Reset ${props.profile}`} danger={kill} />
        </form>
      </dialog>
    </div>
  );
}

function RiskKillSection(props: {
  commands: TradingCommandsModel;
  profile: string;
  canCommand: boolean;
  role: string;
}) {
  return (
    <section aria-labelledby="trading-risk-kill-h" class="panel" id="trading-risk-kill">
      <h2 id="trading-risk-kill-h">
        Risk kill · <code>{props.profile}</code>
      </h2>
      <RiskKillState commands={props.commands} />
      {props.canCommand ? (
        <>
          <RiskKillForm action="kill" profile={props.profile} />
          <RiskKillForm action="reset" profile={props.profile} />
          <div id="trading-risk-kill-result" role="status" aria-live="polite" />
        </>
      ) : props.commands.wired ? (
        <p class="muted" id="trading-risk-kill-viewer-note">
          <span aria-hidden="true">ℹ</span> Kill and reset need the operator role; you are signed in as {props.role}.
        </p>
      ) : null}
    </section>
  );
}

function paramHelp(f: CommandParamField): string {
  const parts = [PARAM_HINT[f.name] ?? ''];
  if (f.min !== undefined || f.max !== undefined) parts.push(`${f.min ?? '…'} to ${f.max ?? '…'}`);
  if (f.maxLength !== undefined) parts.push(`at most ${f.maxLength} characters`);
  parts.push(f.usedBy.map((u) => `${u.type}: ${u.required ? 'required' : 'optional'}`).join(', '));
  return parts.filter(Boolean).join('; ');
}

function CommandParamControl(props: { f: CommandParamField; first: FormCommandType }) {
  const { f } = props;
  const id = `trading-command-p-${f.name}`;
  const used = f.usedBy.some((u) => u.type === props.first);
  const common = {
    id,
    name: f.name,
    'data-param': f.name,
    'data-kind': f.kind,
    'aria-describedby': `${id}-help trading-command-error`,
    autocomplete: 'off',
  };
  return (
    // The wrapper carries `hidden` (a `.field` would override it with its own display rule).
    <div
      data-param-field={f.name}
      data-types={f.usedBy.map((u) => u.type).join(' ')}
      data-required-for={f.usedBy
        .filter((u) => u.required)
        .map((u) => u.type)
        .join(' ')}
      hidden={!used}
    >
      <div class="field">
        <label for={id}>
          <code>{f.name}</code>
        </label>
        {f.kind === 'integer' ? (
          <input
            type="number"
            {...common}
            step="1"
            min={f.min === undefined ? undefined : String(f.min)}
            max={f.max === undefined ? undefined : String(f.max)}
            inputmode="numeric"
          />
        ) : (
          <input
            type="text"
            {...common}
            spellcheck={false}
            maxlength={f.maxLength}
            size={f.kind === 'list' ? 40 : 24}
          />
        )}
        <span class="muted field-help" id={`${id}-help`}>
          {paramHelp(f)}
        </span>
      </div>
    </div>
  );
}

function CommandForm(props: { profile: string }) {
  const first = FORM_COMMAND_TYPES[0];
  return (
    <div class="trading-actions">
      <form
        id="trading-command-form"
        class="trading-form"
        aria-labelledby="trading-command-h"
        aria-describedby="trading-command-help trading-command-error"
        novalidate
      >
        <h3 id="trading-command-h">Send a command</h3>
        <p class="muted" id="trading-command-help">
          The command is written to the DynamoDB commands table and the Redis command stream; the gateway of{' '}
          <code>{props.profile}</code> executes each command once. Kill and reset are in the Risk kill section.
        </p>
        <div class="field">
          <label for="trading-command-type">Command</label>
          <select
            id="trading-command-type"
            name="type"
            aria-describedby="trading-command-type-help trading-command-error"
          >
            {FORM_COMMAND_TYPES.map((t) => (
              <option value={t} selected={t === first} data-help={COMMAND_HELP[t]}>
                {t}
              </option>
            ))}
          </select>
          <span class="muted field-help" id="trading-command-type-help">
            {COMMAND_HELP[first]}
          </span>
        </div>
        {COMMAND_PARAM_FIELDS.map((f) => (
          <CommandParamControl f={f} first={first} />
        ))}
        <button type="submit" class="danger" aria-haspopup="dialog">
          <span aria-hidden="true">➤</span> Send command…
        </button>
      </form>
      <p class="form-error" id="trading-command-error" role="alert" hidden />
      <dialog id="trading-command-dialog" aria-labelledby="trading-command-dialog-h">
        <form method="dialog">
          <h3 id="trading-command-dialog-h">
            Send <code data-confirm-type></code> to the gateway of <code>{props.profile}</code>?
          </h3>
          <p data-confirm-help />
          <p>
            Parameters: <code data-confirm-params></code>
          </p>
          <ConfirmActions label="Send" danger />
        </form>
      </dialog>
      <div id="trading-command-result" role="status" aria-live="polite" />
    </div>
  );
}

function paramsSummary(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(([k, v]) => {
    const text = Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : JSON.stringify(v);
    return `${k}=${text}`;
  });
  return parts.length === 0 ? '—' : parts.join('; ');
}

/** The gateway's result statuses as icon + tone (the status text is always shown too); others are `?`. */
const RESULT_TONE: Record<string, { tone: string; icon: string }> = {
  ok: { tone: 'ok', icon: '✓' },
  accepted: { tone: 'ok', icon: '✓' },
  executed: { tone: 'ok', icon: '✓' },
  duplicate: { tone: 'empty', icon: '≡' },
  rejected: { tone: 'error', icon: '✖' },
  failed: { tone: 'error', icon: '✖' },
  command_outcome_unknown: { tone: 'warn', icon: '⚠' },
};

function CommandResultCell(props: { item: CommandHistoryItem }) {
  const r = props.item.result;
  if (!r) {
    return (
      <td data-col="result" class="muted">
        <span aria-hidden="true">○</span> no result reported
      </td>
    );
  }
  const tone = RESULT_TONE[r.status] ?? { tone: 'unknown', icon: '?' };
  return (
    <td data-col="result">
      <span class={`state state-${tone.tone}`} data-result-status={r.status}>
        <span aria-hidden="true">{tone.icon}</span> {r.status}
      </span>
      {r.reason ? <span class="muted"> ({r.reason})</span> : null}
    </td>
  );
}

function HistoryTable(props: { history: CommandHistory }) {
  const { history } = props;
  if (history.items.length === 0) {
    return (
      <p class="empty" id="trading-commands-empty">
        No commands sent to <code>{history.account_profile}</code> yet.
      </p>
    );
  }
  return (
    <table id="trading-commands-table">
      <caption>
        Newest {history.items.length} commands for <code>{history.account_profile}</code>, newest first (at most{' '}
        {PAGE_HISTORY_LIMIT} here; <code>GET /api/gateway/commands</code> gives up to 500)
      </caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Type</th>
          <th scope="col">Parameters</th>
          <th scope="col">Issued by</th>
          <th scope="col">Source</th>
          <th scope="col">Result</th>
          <th scope="col">Command id</th>
        </tr>
      </thead>
      <tbody>
        {history.items.map((i) => (
          <tr data-command-id={i.command_id} data-type={i.type}>
            <td data-col="time">
              <Time iso={i.issued_at} />
            </td>
            <td data-col="type">
              <code>{i.type}</code>
            </td>
            <td data-col="params">{paramsSummary(i.params)}</td>
            <td data-col="issued_by">{i.issued_by}</td>
            <td data-col="source">{i.source}</td>
            <CommandResultCell item={i} />
            <td data-col="command_id">
              <code>{i.command_id}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The command history (re-rendered by the client after a post and on the gateway's live messages). */
function CommandHistoryBlock(props: { history: Loaded<CommandHistory> }) {
  const { history } = props;
  return (
    <div id="trading-commands-history">
      <h3>Command history</h3>
      {history.ok ? (
        <>
          <HistoryTable history={history.value} />
          {history.value.results_source === 'none' ? (
            <p class="muted" id="trading-commands-results-note">
              <span aria-hidden="true">ℹ</span> Results come from the gateway's state ({NO_GATEWAY_STATE}), so every
              command shows “no result reported” until a gateway reports it.
            </p>
          ) : null}
        </>
      ) : (
        <ReadFailed id="trading-commands-read-error" what="The command history" error={history.error} />
      )}
    </div>
  );
}

function CommandsSection(props: {
  commands: TradingCommandsModel;
  profile: string;
  canCommand: boolean;
  role: string;
}) {
  const { commands } = props;
  return (
    <section aria-labelledby="trading-commands-h" class="panel" id="trading-commands">
      <h2 id="trading-commands-h">
        Commands · <code>{props.profile}</code>
      </h2>
      {commands.wired ? (
        <>
          {props.canCommand ? (
            <CommandForm profile={props.profile} />
          ) : (
            <p class="muted" id="trading-commands-viewer-note">
              <span aria-hidden="true">ℹ</span> Sending commands needs the operator role; you are signed in as{' '}
              {props.role}.
            </p>
          )}
          <CommandHistoryBlock history={commands.history} />
        </>
      ) : (
        <CommandsOff id="trading-commands-off" message={commands.message} />
      )}
    </section>
  );
}

function ProfileSelector(props: { variety: string; profile: string; profiles: string[] }) {
  return (
    <section aria-labelledby="trading-profile-h" class="panel">
      <h2 id="trading-profile-h">Account profile</h2>
      <form method="get" action={`/v/${props.variety}/trading`} class="inline-form" id="trading-profile-form">
        <label for="trading-profile">Profile</label>
        <select id="trading-profile" name="profile">
          {props.profiles.map((p) => (
            <option value={p} selected={p === props.profile}>
              {p}
            </option>
          ))}
        </select>
        <button type="submit">Show</button>
      </form>
      <form method="get" action={`/v/${props.variety}/trading`} class="inline-form" id="trading-profile-other-form">
        <label for="trading-profile-other">Other profile</label>
        <input
          id="trading-profile-other"
          name="profile"
          maxlength={200}
          autocomplete="off"
          spellcheck={false}
          aria-describedby="trading-profile-other-help"
        />
        <button type="submit">Open</button>
        <span class="muted" id="trading-profile-other-help">
          Known: <code>default</code> and every profile with a desired document. Names are canonicalised (lowercase,
          runs of other characters -&gt; <code>_</code>).
        </span>
      </form>
    </section>
  );
}

export function TradingPage(props: TradingPageProps) {
  const { ctx, model } = props;
  const v = ctx.variety;
  const canOperate = props.canOperate && model.available;
  const canCommand = props.canOperate && model.commands.wired;
  return (
    <Layout
      title={`Trading · ${model.profile} · ${v.toUpperCase()}`}
      ctx={ctx}
      pageData={{
        page: 'trading',
        profile: model.profile,
        can_operate: canOperate,
        available: model.available,
        commands_wired: model.commands.wired,
        can_command: canCommand,
      }}
    >
      <h1>Trading</h1>
      <p>
        Account profile <code id="trading-current-profile">{model.profile}</code>, variety {v.toUpperCase()}.
      </p>
      <ProfileSelector variety={v} profile={model.profile} profiles={model.profiles} />
      <RiskKillSection commands={model.commands} profile={model.profile} canCommand={canCommand} role={ctx.user.role} />
      <section aria-labelledby="trading-live-h" class="panel placeholder" id="trading-live">
        <h2 id="trading-live-h">Positions, orders, targets and PnL</h2>
        <p id="trading-no-state">
          <span aria-hidden="true">○</span> {NO_GATEWAY_STATE}.
        </p>
        <p class="muted">
          Mode and effective mode, positions, alive orders, targets, PnL, command results and events come from the
          gateway's own state, which the trading chain's processes will write. Until then this page shows the durable
          risk-kill record above, and the desired documents, the supervisors' records and the commands sent below.
        </p>
      </section>
      {model.available ? (
        <>
          {canOperate ? null : (
            <p class="muted" id="trading-viewer-note">
              <span aria-hidden="true">ℹ</span> Changing desired state, Start and Stop need the operator role; you are
              signed in as {ctx.user.role}.
            </p>
          )}
          <div class="trading-grid">
            <ComponentCard model={model.gateway} canOperate={canOperate} nowMs={model.generatedAtMs} />
            <ComponentCard model={model.strategy} canOperate={canOperate} nowMs={model.generatedAtMs} />
          </div>
        </>
      ) : (
        <p class="form-error" id="trading-off">
          <span aria-hidden="true">✖</span> Desired state unavailable: {model.message}.
        </p>
      )}
      <CommandsSection commands={model.commands} profile={model.profile} canCommand={canCommand} role={ctx.user.role} />
    </Layout>
  );
}

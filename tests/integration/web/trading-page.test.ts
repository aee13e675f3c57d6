/**
 * The Trading page `/v/{var}/trading` (control-chain §8, §6.1, §6.3) over the real stores: the app is the shared web
 * test app plus the desired-state service, the supervisor telemetry store and the command service (as `ghtrader up`
 * wires them). A viewer sees the desired documents and supervisor records with no forms or buttons; an operator gets
 * the schema-typed forms, Start and Stop (behind a dialog); a desired document posted through the page's API path
 * (cookie + CSRF) shows up on the page; a crash loop and a backoff seeded through the telemetry store render as an
 * alert banner and a countdown; an unknown profile renders `not_initialized`; and the live-state section says the
 * trading chain is not built. Commands: an operator gets the Kill and Reset forms and the command form (types and
 * parameter fields from the schemas, behind dialogs), a viewer only the command history, which lists commands posted
 * through the page's API path with "no result reported"; a KILLED record written as the gateway writes it renders a
 * `role=alert` banner with trigger, reason and author, its state in text and icon; without a command service both
 * sections say so.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_MODES, STRATEGY_MODES } from '#shared/domain/control/desired.ts';
import { initialMemory } from '#shared/domain/control/supervisor.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { isoUtc } from '#shared/domain/time.ts';
import { applyKill } from '#shared/domain/trading/risk-kill.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import { countdownText, DURABLE_ONLY_TEXT, issuedText } from '#web/client/trading.ts';
import { NO_GATEWAY_STATE } from '#web/pages/trading.tsx';
import { COMMANDS_OFF_MESSAGE, FORM_COMMAND_TYPES } from '#web/routes/trading-model.ts';
import { type BrowserSession, errorOf, ORIGIN, WebTestStack } from './support.ts';

let web: WebTestStack;
let app: ReturnType<WebTestStack['appWith']>;
let viewer: BrowserSession;
let operator: BrowserSession;

beforeAll(async () => {
  web = await WebTestStack.create();
  const { rt } = web.stack;
  // The same app with the desired-state service, supervisor telemetry and commands, as `ghtrader up` wires it.
  app = web.appWith({
    supervision: { desired: rt.desired, telemetry: rt.supervisorTelemetry },
    commands: tradingControl(rt).commands,
    consoleStatus: tradingControl(rt).consoleStatus,
  });
  viewer = await web.login(await web.createUser('viewer'));
  operator = await web.login(await web.createUser('operator'));
  await rt.warm.settle(2_000);
});

afterAll(async () => {
  await web?.close();
});

const page = async (path: string, s: BrowserSession) => {
  const res = await app.request(`${ORIGIN}${path}`, { headers: { cookie: s.cookie } });
  expect(res.status, path).toBe(200);
  return res.text();
};

/** A write exactly as the page's client sends it: cookie, CSRF header, same Origin, JSON. */
const post = (path: string, body: unknown, s: BrowserSession): Promise<Response> =>
  Promise.resolve(
    app.request(`${ORIGIN}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...web.browserHeaders(s) },
      body: JSON.stringify(body),
    }),
  );

const profile = (prefix: string) => `${prefix}${ulidGen.next().slice(-6).toLowerCase()}`;

/** The inner HTML of the element with this id (first match; the ids on the page are unique). */
function section(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  expect(start, `#${id} on the page`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</section>', start));
}

describe('Trading page', () => {
  it('shows a viewer the desired document and supervisor state, with no forms or buttons', async () => {
    // Prepare
    const p = profile('view');
    const w = await post(
      '/api/gateway/desired',
      { account_profile: p, desired: { mode: 'paper', symbols: ['SHFE.cu2502'] }, reason: 'seed for viewer' },
      operator,
    );
    expect(w.status).toBe(200);

    // Act
    const html = await page(`/v/cu/trading?profile=${p}`, viewer);
    const denied = await post('/api/gateway/stop', { account_profile: p }, viewer);

    // Assess
    expect(html).toContain('<h1>Trading</h1>');
    const gw = section(html, 'trading-gateway');
    expect(gw).toContain('<strong>paper</strong>');
    expect(gw).toContain('SHFE.cu2502');
    expect(gw).toContain('seed for viewer');
    expect(gw).toMatch(/data-col="desired_revision">1</);
    expect(gw).toMatch(/data-col="updated_by">user:/);
    expect(gw).toContain('data-component-status="not_initialized"');
    expect(gw).toContain('no supervisor has reported this gateway yet');
    expect(html).toContain('id="trading-viewer-note"');
    for (const id of [
      'trading-gateway-form',
      'trading-strategy-form',
      'trading-gateway-start',
      'trading-gateway-stop',
      'trading-strategy-stop-dialog',
    ]) {
      expect(html, id).not.toContain(`id="${id}"`);
    }
    // The live-state section is honest: no positions, orders or PnL are invented.
    expect(section(html, 'trading-live')).toContain(NO_GATEWAY_STATE);
    expect(denied.status).toBe(403);
    expect((await errorOf(denied)).code).toBe('forbidden');
  });

  it('gives an operator the schema-typed forms, Start, and Stop behind a confirmation dialog', async () => {
    // Prepare
    const p = profile('op');
    await post('/api/strategy/desired', { account_profile: p, desired: { mode: 'idle', horizon: 0 } }, operator).then(
      async (r) => expect(r.status, await r.text()).toBe(400), // horizon ≥ 1: nothing written
    );

    // Act
    const html = await page(`/v/au/trading?profile=${p}`, operator);

    // Assess: the gateway form, from the document schema
    const gw = section(html, 'trading-gateway');
    const modeSelect = gw.slice(gw.indexOf('id="trading-gateway-f-mode"'), gw.indexOf('</select>'));
    const options = [...modeSelect.matchAll(/<option value="([a-z_]+)"/g)].map((m) => m[1]);
    expect(options).toEqual([...GATEWAY_MODES]);
    expect(modeSelect).toMatch(/<option value="live_trade" disabled=""/);
    expect(gw).toMatch(/id="trading-gateway-f-confirm_live"[^>]*data-kind="confirm"/);
    expect(gw).toMatch(/id="trading-gateway-f-symbols"[^>]*data-kind="list"/);
    expect(gw).toMatch(/id="trading-gateway-f-limits-max_daily_loss"[^>]*data-kind="nullable_number"/);
    expect(gw).toMatch(/id="trading-gateway-f-limits-enforce_trading_time"[^>]*data-kind="boolean"[^>]*checked/);
    // The risk cap (GHTRADER_RISK_MAX_ORDER_SIZE_CAP, default 10) is the limit's ceiling.
    expect(gw).toMatch(/id="trading-gateway-f-limits-max_order_size"[^>]*max="10"/);
    expect(gw).toContain('GHTRADER_RISK_MAX_ORDER_SIZE_CAP');
    expect(gw).toMatch(/id="trading-gateway-reason"[^>]*required/);
    expect(gw).toMatch(/name="expected_desired_revision" value="0"/);
    expect(gw).toContain('id="trading-gateway-start"');
    expect(gw).toMatch(/id="trading-gateway-stop"[^>]*aria-haspopup="dialog"/);
    expect(gw).toMatch(/<dialog id="trading-gateway-stop-dialog"/);
    // Errors are tied to the controls.
    expect(gw).toMatch(/aria-describedby="trading-gateway-f-mode-help trading-gateway-form-error"/);
    // The strategy form has its own fields.
    const st = section(html, 'trading-strategy');
    const stOptions = [
      ...st
        .slice(st.indexOf('id="trading-strategy-f-mode"'), st.indexOf('</select>'))
        .matchAll(/<option value="([a-z_]+)"/g),
    ].map((m) => m[1]);
    expect(stOptions).toEqual([...STRATEGY_MODES]);
    for (const f of ['model_name', 'horizon', 'threshold_up', 'threshold_down', 'position_size', 'host_id']) {
      expect(st, f).toContain(`data-field="${f}"`);
    }
    expect(st).toContain('No desired strategy document');
    expect(html).not.toContain('id="trading-viewer-note"');
  });

  it('shows a desired document posted through the page API path, and refuses live_trade without I_UNDERSTAND', async () => {
    // Prepare
    const p = profile('post');
    const body = {
      account_profile: p,
      desired: {
        mode: 'sim',
        symbols: ['SHFE.cu2502', 'KQ.m@SHFE.cu'],
        sim_account: 'local',
        limits: { max_abs_position: 0, max_order_size: 2, max_daily_loss: 5000, enforce_trading_time: false },
        execution: { reprice_ticks: 3 },
      },
      reason: 'page test write',
      expected_desired_revision: 0,
    };

    // Act
    const res = await post('/api/gateway/desired', body, operator);
    const live = await post(
      '/api/gateway/desired',
      {
        account_profile: p,
        desired: { mode: 'live_trade', limits: { max_daily_loss: 5000 } },
        reason: 'no confirmation',
        expected_desired_revision: 1,
      },
      operator,
    );
    const stale = await post('/api/gateway/desired', { ...body, reason: 'stale form' }, operator);
    const html = await page(`/v/cu/trading?profile=${p}`, operator);

    // Assess
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ account_profile: p, desired_revision: 1 });
    expect(live.status).toBe(400);
    expect((await errorOf(live)).code).toBe('confirm_live_required');
    expect(stale.status).toBe(409);
    expect((await errorOf(stale)).code).toBe('desired_revision_conflict');
    const gw = section(html, 'trading-gateway-state');
    expect(gw).toContain('<strong>sim</strong>');
    expect(gw).toContain('SHFE.cu2502, KQ.m@SHFE.cu');
    expect(gw).toMatch(/data-field="limits.max_abs_position">[\s\S]*?<td>0<\/td>/);
    expect(gw).toMatch(/data-field="limits.max_daily_loss">[\s\S]*?<td>5000<\/td>/);
    expect(gw).toMatch(/data-field="execution.reprice_ticks">[\s\S]*?<td>3<\/td>/);
    expect(gw).toContain('page test write');
    expect(gw).toMatch(/data-col="desired_revision">1</);
    expect(gw).toContain('data-component-status="not_initialized"');
    // The form is prefilled from the stored document and expects its revision.
    const form = section(html, 'trading-gateway');
    expect(form).toMatch(/<option value="sim" selected=""/);
    expect(form).toMatch(/id="trading-gateway-f-symbols"[^>]*value="SHFE.cu2502, KQ.m@SHFE.cu"/);
    expect(form).toMatch(/id="trading-gateway-f-limits-max_abs_position"[^>]*value="0"/);
    expect(form).not.toMatch(/id="trading-gateway-f-limits-enforce_trading_time"[^>]*checked/);
    expect(form).toMatch(/name="expected_desired_revision" value="1"/);
    // The profile is now known to the selector.
    expect(section(html, 'trading-profile-form')).toContain(`<option value="${p}" selected=""`);
  });

  it('renders a crash loop from the telemetry store as an alert banner, and a backoff with a countdown', async () => {
    // Prepare: a crash-looping gateway and a strategy in backoff, written as the supervisor writes them
    const p = profile('loop');
    await post('/api/gateway/start', { account_profile: p }, operator).then((r) => expect(r.status).toBe(202));
    await post(
      '/api/strategy/start',
      { account_profile: p, desired: { mode: 'run', symbols: ['SHFE.cu2502'], model_name: 'm1' } },
      operator,
    ).then((r) => expect(r.status).toBe(202));
    const tel = web.stack.rt.supervisorTelemetry;
    const now = Date.now();
    const crashes = [now - 40_000, now - 30_000, now - 20_000, now - 10_000, now - 1_000];
    const base = {
      account_profile: p,
      host_id: 'host-a',
      fencing_token: 7,
      desired_revision: 1,
      child_pid: null,
      heartbeat: null,
      now_ms: now,
    };
    for (const at of crashes.slice(0, 4)) {
      await tel.writeComponent({
        ...base,
        component: 'gateway',
        memory: {
          ...initialMemory(),
          state: 'backoff',
          consecutive_crashes: 1,
          last_exit: { code: 3, signal: null, at_ms: at },
        },
        last_action: 'restart',
        last_reason: 'crashed:exit_3',
        add: { started: 1, restart_reason: 'crashed:exit_3' },
      });
    }
    await tel.writeComponent({
      ...base,
      component: 'gateway',
      memory: {
        ...initialMemory(),
        state: 'crash_loop',
        consecutive_crashes: 5,
        budget_window_ms: crashes,
        crash_loop_revision: 1,
        last_exit: { code: 3, signal: null, at_ms: now - 1_000 },
      },
      last_action: 'hold_crash_loop',
      last_reason: 'crash_budget_exhausted',
      add: {},
    });
    const until = now + 95_000;
    await tel.writeComponent({
      ...base,
      component: 'strategy',
      memory: { ...initialMemory(), state: 'backoff', consecutive_crashes: 2, backoff_until_ms: until },
      last_action: 'wait_backoff',
      last_reason: 'crashed:signal_SIGSEGV',
      add: { restart_reason: 'crashed:signal_SIGSEGV' },
    });

    // Act
    const html = await page(`/v/ag/trading?profile=${p}`, viewer);

    // Assess: the crash loop banner is an alert with the host and last exit; the restarts are counted
    const gw = section(html, 'trading-gateway-state');
    expect(gw).toMatch(/role="alert" id="trading-gateway-crash-loop"/);
    expect(gw).toContain('Crash loop');
    expect(gw).toContain('<code>host-a</code>');
    expect(gw).toContain('after 5 crashes');
    expect(gw).toContain('last exit code 3');
    expect(gw).toContain('data-component-status="crash_loop"');
    expect(gw).toMatch(/data-col="restarts">4/);
    expect(gw).toContain('crashed:exit_3 × 4');
    expect(gw).toContain('crash_budget_exhausted');
    // The strategy in backoff: deadline and countdown, no banner
    const st = section(html, 'trading-strategy-state');
    expect(st).not.toContain('role="alert"');
    expect(st).toContain('data-component-status="backoff"');
    expect(st).toContain(`data-countdown-until="${isoUtc(until)}"`);
    expect(st).toMatch(/in 1 min 3\d s|in 1 min 2\d s/);
    expect(st).toContain('crashed:signal_SIGSEGV');
    expect(countdownText(until, until - 5_400)).toBe('in 6 s');
    expect(countdownText(until, until + 1)).toBe('elapsed');
    // An operator's Start clears the crash loop (a new revision) instead of 409 already_running.
    const restart = await post('/api/gateway/start', { account_profile: p, reason: 'clear loop' }, operator);
    expect(restart.status).toBe(202);
    expect(await restart.json()).toMatchObject({ desired_revision: 2 });
  });

  it('renders an unknown profile as not_initialized, canonicalised, and refuses an invalid one', async () => {
    // Act
    const html = await page('/v/cu/trading?profile=No%20Such-Profile', viewer);
    const def = await page('/v/cu/trading', viewer);
    const bad = await app.request(`${ORIGIN}/v/cu/trading?profile=${'x'.repeat(40)}`, {
      headers: { cookie: viewer.cookie },
    });

    // Assess
    expect(html).toContain('<code id="trading-current-profile">no_such_profile</code>');
    for (const kind of ['gateway', 'strategy']) {
      const s = section(html, `trading-${kind}-state`);
      expect(s, kind).toContain(`id="trading-${kind}-status" data-component-status="not_initialized"`);
      expect(s, kind).toContain(`no desired ${kind} document for no_such_profile`);
      expect(s, kind).toContain(`No supervisor has reported this ${kind} yet.`);
    }
    expect(section(html, 'trading-profile-form')).toMatch(/<option value="default"/);
    expect(def).toContain('<code id="trading-current-profile">default</code>');
    expect(bad.status).toBe(400);
  });

  it('says plainly when this process wires no desired-state service', async () => {
    // Act: the shared test app has no supervision deps
    const res = await web.request('/v/cu/trading', { headers: { cookie: operator.cookie } });
    const html = await res.text();

    // Assess
    expect(res.status).toBe(200);
    expect(html).toContain('id="trading-off"');
    expect(html).toContain('desired-state service is not wired');
    expect(html).not.toContain('id="trading-gateway-form"');
    expect(html).toContain(NO_GATEWAY_STATE);
  });
  it('gives an operator the Kill and Reset forms and the command form, each behind a confirmation dialog', async () => {
    // Prepare
    const p = profile('cmdop');

    // Act
    const html = await page(`/v/cu/trading?profile=${p}`, operator);

    // Assess: the risk kill, ACTIVE without a record, as icon and text
    const rk = section(html, 'trading-risk-kill');
    expect(rk).toMatch(/data-risk-kill-state="ACTIVE"><span aria-hidden="true">✓<\/span> ACTIVE: no risk kill/);
    expect(rk).not.toContain('role="alert" id="trading-risk-kill-banner"');
    for (const id of ['trading-kill', 'trading-reset']) {
      expect(rk, id).toMatch(new RegExp(`id="${id}-form"[^>]*data-risk-kill-action="(kill|reset)"`));
      expect(rk, id).toMatch(new RegExp(`id="${id}-reason"[^>]*required`));
      expect(rk, id).toMatch(new RegExp(`<dialog id="${id}-dialog"`));
      expect(rk, id).toMatch(new RegExp(`id="${id}-error" role="alert" hidden`));
    }
    expect(rk).toMatch(/aria-haspopup="dialog"[^>]*>[\s\S]*?Kill…/);
    expect(rk).toContain('Reset risk kill…');
    expect(rk).toContain('id="trading-risk-kill-result"');
    // The command form: the types, and the parameter fields of each from the params schemas
    const cmd = section(html, 'trading-commands');
    const select = cmd.slice(cmd.indexOf('id="trading-command-type"'), cmd.indexOf('</select>'));
    expect([...select.matchAll(/<option value="([a-z_]+)"/g)].map((m) => m[1])).toEqual([...FORM_COMMAND_TYPES]);
    expect(select).not.toMatch(/value="(kill|reset_risk_kill)"/);
    expect(cmd).toMatch(/data-param-field="symbols" data-types="flatten" data-required-for="" hidden/);
    expect(cmd).toMatch(
      /data-param-field="symbol" data-types="clear_target set_target" data-required-for="set_target"/,
    );
    expect(cmd).toMatch(/data-param-field="target" data-types="set_target"/);
    expect(cmd).toMatch(/id="trading-command-p-target"[^>]*data-kind="integer"[^>]*min="-10000" max="10000"/);
    expect(cmd).toMatch(
      /data-param-field="diff_hash" data-types="ack_reconciliation" data-required-for="ack_reconciliation"/,
    );
    expect(cmd).toMatch(/data-param-field="note" data-types="ack_reconciliation"/);
    expect(cmd).toMatch(/<dialog id="trading-command-dialog"/);
    expect(cmd).toMatch(/id="trading-command-error" role="alert" hidden/);
    expect(cmd).toContain('id="trading-commands-empty"');
    expect(cmd).not.toContain('id="trading-commands-viewer-note"');
    expect(html).toContain('"can_command":true');
    // Every id on the page is unique (labels, aria-describedby and the client's lookups rely on it).
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('lists commands posted through the page API path for a viewer, with no form or button', async () => {
    // Prepare: an operator's commands, posted as the page's client posts them (cookie + CSRF)
    const p = profile('cmdview');
    const a = await post('/api/gateway/command', { account_profile: p, type: 'cancel_all', params: {} }, operator);
    const b = await post(
      '/api/gateway/command',
      { account_profile: p, type: 'set_target', params: { symbol: 'SHFE.cu2502', target: 2 } },
      operator,
    );
    const bad = await post(
      '/api/gateway/command',
      { account_profile: p, type: 'set_target', params: { symbol: 'SHFE.cu2502', target: 1.5 } },
      operator,
    );
    const denied = await post('/api/trading/risk-kill', { account_profile: p, action: 'kill', reason: 'x' }, viewer);
    expect([a.status, b.status, bad.status, denied.status]).toEqual([202, 202, 400, 403]);
    const [first, second] = [(await a.json()) as { command_id: string }, (await b.json()) as { command_id: string }];

    // Act
    const html = await page(`/v/cu/trading?profile=${p}`, viewer);

    // Assess: newest first, params summarised, no result reported (no gateway reports any yet)
    const hist = section(html, 'trading-commands-history');
    const rows = [...hist.matchAll(/<tr data-command-id="([0-9A-Z]{26})" data-type="([a-z_]+)"/g)];
    expect(rows.map((m) => [m[1], m[2]])).toEqual([
      [second.command_id, 'set_target'],
      [first.command_id, 'cancel_all'],
    ]);
    expect(hist).toContain('<td data-col="params">symbol=SHFE.cu2502; target=2</td>');
    expect(hist).toMatch(/<td data-col="issued_by">operator-/);
    expect(hist).toContain('<td data-col="source">api</td>');
    expect(hist.match(/no result reported/g)?.length).toBeGreaterThanOrEqual(2);
    expect(hist).toContain(NO_GATEWAY_STATE);
    expect(hist).toContain('<th scope="col">Result</th>');
    // No form, dialog or button of the commands part for a viewer
    for (const id of [
      'trading-kill-form',
      'trading-reset-form',
      'trading-kill-dialog',
      'trading-command-form',
      'trading-command-dialog',
      'trading-command-type',
    ]) {
      expect(html, id).not.toContain(`id="${id}"`);
    }
    expect(section(html, 'trading-risk-kill')).not.toContain('<button');
    expect(section(html, 'trading-commands')).not.toContain('<button');
    expect(html).toContain('id="trading-risk-kill-viewer-note"');
    expect(html).toContain('id="trading-commands-viewer-note"');
    expect(html).toContain('"can_command":false');
  });

  it('renders a KILLED record as a role=alert banner with trigger, reason, since and by, in text not colour only', async () => {
    // Prepare: a kill written as the gateway writes it
    const p = profile('killed');
    const killedAtMs = Date.now() - 90_000;
    const rec = applyKill(p, null, {
      trigger: 'max_daily_loss',
      reason: 'daily loss 6200 > 5000',
      details: { baseline_balance: 1_000_000, balance: 993_800, max_daily_loss: 5_000 },
      at_ns: BigInt(killedAtMs) * 1_000_000n,
      by: 'gateway',
      fence: 2,
    });
    if (!rec) throw new Error('test setup: applyKill answered null');
    expect(await tradingControl(web.stack.rt).riskKillStore.put(rec)).toBe(true);

    // Act
    const html = await page(`/v/ag/trading?profile=${p}`, viewer);
    const opHtml = await page(`/v/ag/trading?profile=${p}`, operator);

    // Assess
    const state = section(html, 'trading-risk-kill-state');
    const banner = state.slice(state.indexOf('<p class="badge badge-error trading-alert" role="alert"'));
    expect(banner).toMatch(/^<p class="badge badge-error trading-alert" role="alert" id="trading-risk-kill-banner">/);
    expect(banner).toContain('<strong>Risk kill active</strong>');
    expect(banner).toContain('<code>max_daily_loss</code>');
    expect(banner).toContain('daily loss 6200 &gt; 5000');
    expect(banner).toContain(`<time datetime="${isoUtc(killedAtMs)}">`);
    expect(banner).toContain('by <code>gateway</code>');
    expect(state).toMatch(/data-risk-kill-state="KILLED"><span aria-hidden="true">✖<\/span> KILLED: risk kill active/);
    expect(state).toContain('revision 1');
    // The operator sees the same banner and the Reset form next to it.
    expect(section(opHtml, 'trading-risk-kill')).toContain('id="trading-risk-kill-banner"');
    expect(section(opHtml, 'trading-risk-kill')).toContain('id="trading-reset-form"');
  });

  it('shows the chrome risk-kill badge on every page while a known profile is killed, linking its Trading page', async () => {
    // Prepare: a profile the console knows (it has a desired document), not killed yet
    const { rt } = web.stack;
    const p = profile('badge');
    await rt.desired.write(systemCaller('cli', 'cli:test@host', ulidGen.next()), 'gateway', {
      account_profile: p,
      desired: { mode: 'idle', host_id: 'no-such-host' },
    });
    web.hot.invalidate('audit');
    const before = await page('/v/cu/dashboard', viewer);
    const rec = applyKill(p, null, { trigger: 'operator', reason: 'badge drill', at_ns: 1n, by: 'ops', fence: 1 });
    if (!rec) throw new Error('test setup: applyKill answered null');
    expect(await tradingControl(rt).riskKillStore.put(rec)).toBe(true);
    web.hot.invalidate('audit');

    // Act
    const dashboard = await page('/v/cu/dashboard', viewer);
    const jobs = await page('/v/au/jobs', operator);

    // Assess: absent before; then an alert with icon and text naming the profile, on any page and variety
    expect(before).not.toContain(`profile=${p}"`);
    for (const [html, v] of [
      [dashboard, 'cu'],
      [jobs, 'au'],
    ] as const) {
      const badge = html.slice(
        html.indexOf('id="risk-kill-badge"') - 60,
        html.indexOf('</p>', html.indexOf('id="risk-kill-badge"')),
      );
      expect(badge).toContain('class="badge badge-error" role="alert"');
      expect(badge).toContain('<span aria-hidden="true">✖</span> Risk kill active:');
      expect(badge).toContain(`<a href="/v/${v}/trading?profile=${p}" title="badge drill">${p}</a>`);
    }
  });

  it('says the command service is not wired when it is absent, and keeps commands without supervision', async () => {
    // Act: the shared test app wires neither; an app with commands only still offers them
    const off = await (await web.request('/v/cu/trading', { headers: { cookie: operator.cookie } })).text();
    const onlyCommands = web.appWith({ commands: tradingControl(web.stack.rt).commands });
    const res = await onlyCommands.request(`${ORIGIN}/v/cu/trading`, { headers: { cookie: operator.cookie } });
    const html = await res.text();

    // Assess
    for (const id of ['trading-risk-kill-off', 'trading-commands-off']) {
      expect(off, id).toContain(`id="${id}"`);
    }
    expect(off).toContain(COMMANDS_OFF_MESSAGE);
    expect(off).not.toContain('id="trading-kill-form"');
    expect(off).not.toContain('id="trading-command-form"');
    expect(res.status).toBe(200);
    expect(html).toContain('id="trading-off"');
    expect(html).toContain('id="trading-kill-form"');
    expect(html).toContain('id="trading-command-form"');
    expect(html).not.toContain(COMMANDS_OFF_MESSAGE);
  });

  it('words the answer to a command plainly, durable_only included', () => {
    // Act
    const base = {
      command_id: '01JAAAAAAAAAAAAAAAAAAAAAAA',
      account_profile: 'main',
      type: 'kill',
      issued_at: '2025-01-02T03:04:05.678Z',
    };
    const both = issuedText({ ...base, delivery: 'durable_and_stream', delivery_note: '' });
    const durable = issuedText({ ...base, delivery: 'durable_only', delivery_note: 'warm path degraded' });

    // Assess
    expect(both).toContain('Command 01JAAAAAAAAAAAAAAAAAAAAAAA (kill) for main');
    expect(both).toContain('DynamoDB and the Redis command stream');
    expect(both).not.toContain(DURABLE_ONLY_TEXT);
    expect(durable).toContain(`${DURABLE_ONLY_TEXT} (warm path degraded)`);
    expect(DURABLE_ONLY_TEXT).toBe('Redis is down: the gateway picks it up from DynamoDB within 2 s');
    for (const t of [both, durable]) expect(t).toContain(`no result will show here yet (${NO_GATEWAY_STATE})`);
  });

  it('shows the default profile on the dashboard: its desired mode, then its risk kill first (icon and text)', async () => {
    // Prepare: a desired gateway for default on a host no supervisor runs
    const { rt } = web.stack;
    await rt.desired.write(systemCaller('cli', 'cli:test@host', ulidGen.next()), 'gateway', {
      account_profile: 'default',
      desired: { mode: 'paper', host_id: 'no-such-host' },
    });
    web.hot.invalidate('audit');
    const desired = await page('/v/cu/dashboard', viewer);
    const rec = applyKill('default', null, {
      trigger: 'operator',
      reason: 'kpi drill',
      at_ns: 1n,
      by: 'ops',
      fence: 1,
    });
    if (!rec) throw new Error('test setup: applyKill answered null');
    expect(await tradingControl(rt).riskKillStore.put(rec)).toBe(true);
    web.hot.invalidate('audit');

    // Act
    const killed = await page('/v/cu/dashboard', viewer);

    // Assess
    const kpi = (html: string) =>
      html.slice(html.indexOf('id="kpi-trading"'), html.indexOf('</dd>', html.indexOf('id="kpi-trading"')));
    expect(kpi(desired)).toContain('paper');
    expect(kpi(desired)).toContain('desired for <a href="/v/cu/trading?profile=default">default</a>');
    expect(kpi(desired)).toContain('the effective mode arrives');
    expect(kpi(killed)).toContain('<span aria-hidden="true">✖</span> Risk kill active');
    expect(kpi(killed)).toContain('kpi drill');
  });
});

/**
 * `ghtrader gateway|strategy desired|start|stop|status` against a running `ghtrader up --no-demo --no-sim`
 * (control-chain §6.1, §11, acceptance 26 through the CLI): a desired document set and then changed field by field,
 * start twice (the second exits 1 with `already_running`), stop (`was_running:false`, idempotent), bad input exits 2
 * with the service's message (an unknown mode names the allowed modes), a stale `--expected-revision` exits 1, and the
 * HTTP API sees the CLI's revisions, audited with actor type `cli`. `gateway command` and `risk-kill status|activate|
 * reset` (trading-chain §7.3, §8) store commands the console lists with `source: "cli"` (audited `risk_kill.*` or
 * `gateway.command`, actor type `cli`), refuse bad params / unknown types / a missing `--reason` with exit 2, and read the risk kill.
 *
 * The CLI runs with `GHTRADER_HOST_ID` of a host no supervisor manages, so the stack's own supervisor (which would try
 * to launch the not-yet-built `gateway run`) leaves these documents alone and the outcomes are deterministic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliRun,
  type ConsoleClient,
  explain,
  lastJson,
  type RunningStack,
  runCli,
  startLoggedIn,
  stopSuite,
} from './support/ghtrader-process.ts';

const HOST = 'e2e-unsupervised-host';
const MODES_MESSAGE = /"idle"\|"paper"\|"sim"\|"live_monitor"\|"live_trade"/;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const TYPES_MESSAGE =
  /"cancel_all"\|"flatten"\|"set_target"\|"clear_target"\|"disarm_live"\|"kill"\|"reset_risk_kill"\|"ack_reconciliation"/;

interface CliJson extends Record<string, unknown> {
  error: { code: string; message: string; details: Record<string, unknown> };
  desired_updated_by: string;
}
const json = (r: CliRun) => lastJson<CliJson>(r);

describe('ghtrader gateway / strategy against a running stack', () => {
  let home: string;
  let stack: RunningStack;
  let admin: ConsoleClient;

  const cli = (args: string[]): Promise<CliRun> =>
    runCli([...args, '--home', home], { GHTRADER_HOST_ID: HOST }, 60_000);

  beforeAll(async () => {
    ({ home, stack, admin } = await startLoggedIn('trading', ['--no-demo', '--no-sim'], 30_000));
  }, 40_000);
  afterAll(() => stopSuite(stack, home));

  it('sets the desired gateway, changes it field by field, and refuses a stale expected revision', async () => {
    // Act
    const set = await cli([
      'gateway',
      'desired',
      '--account',
      'E2E Desk',
      '--mode',
      'paper',
      '--symbols',
      'SHFE.cu2502,KQ.m@SHFE.cu',
      '--max-order-size',
      '2',
      '--reason',
      'e2e set',
      '--json',
    ]);
    const change = await cli(['gateway', 'desired', '--account', 'e2e_desk', '--max-daily-loss', '500', '--json']);
    const stale = await cli([
      'gateway',
      'desired',
      '--account',
      'e2e_desk',
      '--mode',
      'idle',
      '--expected-revision',
      '1',
      '--json',
    ]);
    const status = await cli(['gateway', 'status', '--account', 'e2e_desk', '--json']);
    const text = await cli(['gateway', 'status', '--account', 'e2e_desk']);
    const api = await admin.request('GET', '/api/gateway/status?account_profile=e2e_desk');
    const audit = await admin.request('GET', '/api/audit?action=gateway.desired&target=gateway:e2e_desk');

    // Assess
    expect(set.code, explain(set)).toBe(0);
    expect(json(set)).toMatchObject({
      account_profile: 'e2e_desk',
      desired_revision: 1,
      desired: {
        mode: 'paper',
        symbols: ['SHFE.cu2502', 'KQ.m@SHFE.cu'],
        limits: { max_order_size: 2, max_daily_loss: null },
        host_id: HOST,
      },
    });
    expect(change.code, explain(change)).toBe(0);
    expect(json(change)).toMatchObject({
      desired_revision: 2,
      desired: {
        mode: 'paper',
        symbols: ['SHFE.cu2502', 'KQ.m@SHFE.cu'],
        limits: { max_order_size: 2, max_daily_loss: 500 },
      },
    });
    expect(stale.code, explain(stale)).toBe(1);
    expect(json(stale)).toMatchObject({
      error: { code: 'desired_revision_conflict', details: { expected_desired_revision: 1, desired_revision: 2 } },
    });
    expect(status.code, explain(status)).toBe(0);
    expect(json(status)).toMatchObject({
      component: 'gateway',
      desired_revision: 2,
      desired_reason: 'cli_desired',
      component_status: 'not_initialized',
      state: null,
      state_source: 'none',
    });
    expect(json(status).desired_updated_by).toMatch(/^cli:cli:/);
    expect(text.code, explain(text)).toBe(0);
    expect(text.stdout).toContain('gateway e2e_desk: not_initialized');
    expect(text.stdout).toContain('desired revision 2 by cli:cli:');
    expect(api.status).toBe(200);
    expect(api.json).toMatchObject({
      desired_revision: 2,
      desired: { mode: 'paper', limits: { max_daily_loss: 500 } },
    });
    expect(audit.status, audit.text).toBe(200);
    const entries = (audit.json as { items: { actor: { type: string }; reason: string; outcome: string }[] }).items;
    expect(entries.map((e) => [e.actor.type, e.reason, e.outcome]).sort()).toEqual([
      ['cli', 'cli_desired', 'ok'],
      ['cli', 'e2e set', 'ok'],
    ]);
  });

  it('start twice exits 1 with already_running the second time; stop says was_running:false, idempotently', async () => {
    // Act
    const first = await cli(['gateway', 'start', '--account', 'e2e_start', '--json']);
    const second = await cli(['gateway', 'start', '--account', 'e2e_start', '--json']);
    const secondText = await cli(['gateway', 'start', '--account', 'e2e_start']);
    const stop = await cli(['gateway', 'stop', '--account', 'e2e_start', '--reason', 'e2e stop', '--json']);
    const again = await cli(['gateway', 'stop', '--account', 'e2e_start', '--json']);

    // Assess
    expect(first.code, explain(first)).toBe(0);
    expect(json(first)).toMatchObject({ desired_revision: 1, desired: { mode: 'sim', host_id: HOST } });
    expect(second.code, explain(second)).toBe(1);
    expect(json(second)).toMatchObject({ error: { code: 'already_running', details: { mode: 'sim' } } });
    expect(secondText.code).toBe(1);
    expect(secondText.stderr).toContain('gateway e2e_start is already desired in mode sim');
    expect(stop.code, explain(stop)).toBe(0);
    expect(json(stop)).toMatchObject({ desired_revision: 2, was_running: false, desired: { mode: 'idle' } });
    expect(again.code, explain(again)).toBe(0);
    expect(json(again)).toMatchObject({ desired_revision: 2, was_running: false });
  });

  it('exits 2 on bad input with the service message, writing nothing', async () => {
    // Act
    const badMode = await cli(['gateway', 'desired', '--account', 'e2e_bad', '--mode', 'turbo', '--json']);
    const badModeText = await cli(['gateway', 'desired', '--account', 'e2e_bad', '--mode', 'turbo']);
    const noMode = await cli(['gateway', 'desired', '--account', 'e2e_bad', '--symbols', 'SHFE.cu2502']);
    const notNumber = await cli([
      'gateway',
      'desired',
      '--account',
      'e2e_bad',
      '--mode',
      'sim',
      '--max-order-size',
      'x',
    ]);
    const overCap = await cli([
      'gateway',
      'desired',
      '--account',
      'e2e_bad',
      '--mode',
      'sim',
      '--max-order-size',
      '11',
    ]);
    const live = await cli([
      'gateway',
      'desired',
      '--account',
      'e2e_bad',
      '--mode',
      'live_trade',
      '--max-daily-loss',
      '100',
      '--json',
    ]);
    const noSymbols = await cli([
      'strategy',
      'desired',
      '--account',
      'e2e_bad',
      '--mode',
      'run',
      '--model-name',
      'm',
      '--json',
    ]);
    const strategyStart = await cli(['strategy', 'start', '--account', 'e2e_bad', '--json']);
    const status = await cli(['gateway', 'status', '--account', 'e2e_bad', '--json']);
    const apiBad = await admin.request('POST', '/api/gateway/desired', {
      account_profile: 'e2e_bad',
      desired: { mode: 'turbo' },
    });

    // Assess
    expect(badMode.code, explain(badMode)).toBe(2);
    expect(json(badMode).error.code).toBe('validation_failed');
    expect(json(badMode).error.message).toMatch(MODES_MESSAGE);
    expect(badModeText.code).toBe(2);
    expect(badModeText.stderr).toMatch(MODES_MESSAGE);
    // The API refuses the same document with the identical message.
    expect(apiBad.status).toBe(400);
    expect((apiBad.json as { error: { message: string } }).error.message).toBe(json(badMode).error.message);
    expect(noMode.code, explain(noMode)).toBe(2);
    expect(noMode.stderr).toContain('--mode is required');
    expect(noMode.stderr).toContain('idle, paper, sim, live_monitor, live_trade');
    expect(notNumber.code, explain(notNumber)).toBe(2);
    expect(notNumber.stderr).toContain('--max-order-size expects a number, got "x"');
    expect(overCap.code, explain(overCap)).toBe(2);
    expect(overCap.stderr).toContain('GHTRADER_RISK_MAX_ORDER_SIZE_CAP=10');
    expect(live.code, explain(live)).toBe(2);
    expect(json(live).error.code).toBe('confirm_live_required');
    expect(noSymbols.code, explain(noSymbols)).toBe(2);
    expect(json(noSymbols).error.code).toBe('no_symbols');
    expect(strategyStart.code, explain(strategyStart)).toBe(2);
    expect(json(strategyStart).error.code).toBe('no_desired');
    expect(json(status)).toMatchObject({ desired_revision: null, component_status: 'not_initialized' });
  });

  it('gateway command stores a command the console lists with source cli, audited; bad input exits 2', async () => {
    // Act
    const kill = await cli([
      'gateway',
      'command',
      '--account',
      'E2E Cmd',
      '--type',
      'kill',
      '--param',
      'reason=drill',
      '--json',
    ]);
    const flatten = await cli([
      'gateway',
      'command',
      '--account',
      'e2e_cmd',
      '--type',
      'flatten',
      '--param',
      'symbols=["SHFE.cu2502"]',
    ]);
    const badTarget = await cli([
      'gateway',
      'command',
      '--account',
      'e2e_cmd',
      '--type',
      'set_target',
      '--param',
      'symbol=SHFE.cu2502',
      '--param',
      'target=1.5',
      '--json',
    ]);
    const unknownType = await cli(['gateway', 'command', '--account', 'e2e_cmd', '--type', 'nope']);
    const both = await cli([
      'gateway',
      'command',
      '--account',
      'e2e_cmd',
      '--type',
      'kill',
      '--param',
      'reason=a',
      '--params-json',
      '{"reason":"b"}',
    ]);
    const history = await admin.request('GET', '/api/gateway/commands?account_profile=e2e_cmd');
    const audit = await admin.request('GET', '/api/audit?target=gateway:e2e_cmd');

    // Assess
    expect(kill.code, explain(kill)).toBe(0);
    const issued = json(kill);
    expect(issued).toMatchObject({ account_profile: 'e2e_cmd', type: 'kill', delivery: 'durable_and_stream' });
    expect(issued.command_id).toMatch(ULID);
    expect(flatten.code, explain(flatten)).toBe(0);
    expect(flatten.stdout).toMatch(/^command [0-9A-HJKMNP-TV-Z]{26} \(flatten\) for e2e_cmd: durable_and_stream\n$/);
    expect(badTarget.code, explain(badTarget)).toBe(2);
    expect(json(badTarget).error.code).toBe('validation_failed');
    expect(json(badTarget).error.message).toContain('target');
    expect(unknownType.code, explain(unknownType)).toBe(2);
    expect(unknownType.stderr).toMatch(TYPES_MESSAGE);
    expect(both.code, explain(both)).toBe(2);
    expect(both.stderr).toContain('not both');
    expect(history.status, history.text).toBe(200);
    const items = (
      history.json as {
        items: { command_id: string; type: string; params: unknown; source: string; issued_by: string }[];
      }
    ).items;
    // Newest first: the refused ones wrote nothing.
    expect(items.map((i) => i.type)).toEqual(['flatten', 'kill']);
    expect(items[1]).toMatchObject({
      command_id: issued.command_id,
      params: { reason: 'drill' },
      source: 'cli',
    });
    expect(items[0]).toMatchObject({ params: { symbols: ['SHFE.cu2502'] }, source: 'cli' });
    for (const i of items) expect(i.issued_by).toMatch(/^cli:[^@]+@/);
    expect(audit.status, audit.text).toBe(200);
    const entries = (
      audit.json as {
        items: { action: string; actor: { type: string }; reason: string | null; after: { command_id: string } }[];
      }
    ).items;
    const killEntry = entries.find((e) => e.after.command_id === issued.command_id);
    expect(killEntry).toMatchObject({
      action: 'risk_kill.activate',
      actor: { type: 'cli' },
      reason: 'drill',
      after: { type: 'kill', source: 'cli', delivery: 'durable_and_stream' },
    });
    expect(entries.map((e) => [e.action, e.actor.type]).sort()).toEqual([
      ['gateway.command', 'cli'],
      ['risk_kill.activate', 'cli'],
    ]);
  });

  it('risk-kill status reads the durable record; activate needs --reason; reset sends reset_risk_kill', async () => {
    // Act
    const status = await cli(['risk-kill', 'status', '--account', 'E2E Kill', '--json']);
    const statusText = await cli(['risk-kill', 'status', '--account', 'e2e_kill']);
    const noReason = await cli(['risk-kill', 'activate', '--account', 'e2e_kill']);
    const noReasonJson = await cli(['risk-kill', 'activate', '--account', 'e2e_kill', '--json']);
    const blank = await cli(['risk-kill', 'activate', '--account', 'e2e_kill', '--reason', ' ', '--json']);
    const activate = await cli(['risk-kill', 'activate', '--account', 'e2e_kill', '--reason', 'e2e drill']);
    const reset = await cli(['risk-kill', 'reset', '--account', 'e2e_kill', '--reason', 'x', '--json']);
    const history = await admin.request('GET', '/api/gateway/commands?account_profile=e2e_kill');
    const apiStatus = await admin.request('GET', '/api/trading/risk-kill?account_profile=e2e_kill');

    // Assess
    expect(status.code, explain(status)).toBe(0);
    expect(json(status)).toMatchObject({
      account_profile: 'e2e_kill',
      risk_kill_active: false,
      state: 'ACTIVE',
      revision: 0,
      source: 'dynamodb',
    });
    // The console reads the same record (nothing executes the kill before a gateway runs).
    expect(apiStatus.status, apiStatus.text).toBe(200);
    expect(apiStatus.json).toMatchObject({ account_profile: 'e2e_kill', risk_kill_active: false, revision: 0 });
    expect(statusText.code, explain(statusText)).toBe(0);
    expect(statusText.stdout).toContain('risk kill e2e_kill: ACTIVE (revision 0)');
    expect(noReason.code, explain(noReason)).toBe(2);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
    // A usage error commander catches still answers --json with the §11 error object on stdout.
    expect(noReasonJson.code, explain(noReasonJson)).toBe(2);
    expect(json(noReasonJson).error).toMatchObject({
      code: 'bad_input',
      message: "required option '--reason <text>' not specified",
    });
    expect(blank.code, explain(blank)).toBe(2);
    expect(activate.code, explain(activate)).toBe(0);
    expect(activate.stdout).toMatch(/^command [0-9A-HJKMNP-TV-Z]{26} \(kill\) for e2e_kill: durable_and_stream\n$/);
    expect(reset.code, explain(reset)).toBe(0);
    expect(json(reset)).toMatchObject({ account_profile: 'e2e_kill', type: 'reset_risk_kill' });
    expect(json(reset).command_id).toMatch(ULID);
    expect(history.status, history.text).toBe(200);
    expect((history.json as { items: { type: string; params: unknown }[] }).items).toMatchObject([
      { type: 'reset_risk_kill', params: { note: 'x' } },
      { type: 'kill', params: { reason: 'e2e drill' } },
    ]);
  });

  it('supervisor --once reports the pass for a host no supervisor runs, changing nothing', async () => {
    // Act
    const plan = await cli(['supervisor', '--once', '--json']);
    const text = await cli(['supervisor', '--once']);
    const both = await cli(['supervisor', '--once', '--standby']);

    // Assess
    expect(plan.code, explain(plan)).toBe(0);
    const body = json(plan) as unknown as {
      host_id: string;
      active_supervisor: unknown;
      items: { component: string; account_profile: string; action: string }[];
    };
    expect(body.host_id).toBe(HOST);
    expect(body.active_supervisor).toBeNull();
    expect(body.items.map((i) => `${i.component}:${i.account_profile}`)).toContain('gateway:e2e_desk');
    expect(text.code, explain(text)).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^supervisor plan for host ${HOST}: no supervisor holds this host`));
    expect(both.code, explain(both)).toBe(2);
  });
});

/**
 * `ghtrader gateway command --account P --type T [--param k=v ...] [--params-json JSON]` and `ghtrader risk-kill
 * status|activate|reset --account P [--reason R]` (control-chain §6.1, §11; trading-chain §7.3, §8): the API's
 * `CommandService` (`POST /api/gateway/command`, `POST /api/trading/risk-kill`, `GET /api/trading/risk-kill`) called
 * directly with the running stack's store credentials as `cli:<os-user>@<host>` (role admin, audit actor type `cli`,
 * envelope `source: "cli"`), so validation, messages, the audit entry and the sinks are identical.
 * `risk-kill activate` sends the command `kill {reason}`, `reset` sends `reset_risk_kill {note: reason}`; `status`
 * reads the durable RiskKill record (no record: ACTIVE at revision 0).
 *
 * Delivery: the command is written to the DynamoDB commands table (the durable sink, which the gateway polls every
 * 1 s) and then `XADD`ed to the Redis stream `commands:<p>` when Redis answers (`delivery: "durable_and_stream"`, else
 * `"durable_only"` with the reason). The spec also has the CLI send it on ZeroMQ to the gateway's ROUTER and wait
 * ≤ 5 s for the ack; the gateway and its ZeroMQ sockets arrive with the trading chain, so there is no ZeroMQ send and
 * no ack here: success means the command is stored (and streamed), never that a gateway received or executed it.
 * Results appear in the gateway's state and in `GET /api/gateway/commands` once a gateway reports them.
 *
 * With `--api URL` the three doors are asked of the HTTP API instead, as the owner of `GHTRADER_API_TOKEN`
 * (`CommandsSource`): the same answers and exit codes; the envelope then says `source: "api"` and the audit entry
 * names the token, as for any API caller.
 *
 * Params: a `--param k=v` value that the type's field accepts as text stays text (`--param note=2024`); any other
 * value is taken as JSON when it parses (numbers, booleans, `["SHFE.cu2502"]`), else as the plain string.
 * `--params-json '{…}'` gives them all as one object instead (not both). Exit 0 ok, 2 bad input (unknown type naming
 * the allowed ones, the service's `validation_failed` naming the field, a missing `--reason`), 1 failure.
 */

import type { Command } from 'commander';
import type * as z from 'zod';
import { ProfileSchema } from '#shared/domain/control/desired.ts';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import { COMMAND_PARAMS, GATEWAY_COMMAND_TYPES } from '#shared/domain/trading/commands.ts';
import type { Caller } from '#shared/services/auth-service.ts';
import type { CommandIssued, CommandService, RiskKillStatus } from '#shared/services/command-service.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import { type ApiClient, allowApi, apiClient } from '../api-client.ts';
import { CliUsageError, parseParamsFor, reportError, withCliRuntime } from '../cli-support.ts';
import { componentCommand, type Global } from './trading.ts';

type Body = Record<string, unknown>;

/**
 * Where `gateway command` and `risk-kill` get their answers: the CommandService with the store credentials (as the
 * CLI caller, `source: "cli"`), or the HTTP API (`--api`) as the token's owner.
 */
export interface CommandsSource {
  issue(body: Body): Promise<CommandIssued>;
  riskKill(body: Body): Promise<CommandIssued>;
  riskKillStatus(profile: string): Promise<RiskKillStatus>;
}

function storeCommands(service: CommandService, caller: Caller): CommandsSource {
  return {
    issue: (body) => service.issue(caller, body, 'cli'),
    riskKill: (body) => service.riskKill(caller, body, 'cli'),
    riskKillStatus: (profile) => service.riskKillStatus(profile),
  };
}

function apiCommands(api: ApiClient): CommandsSource {
  return {
    issue: (body) => api.post<CommandIssued>('/api/gateway/command', body),
    riskKill: (body) => api.post<CommandIssued>('/api/trading/risk-kill', body),
    riskKillStatus: (profile) => api.get<RiskKillStatus>('/api/trading/risk-kill', { account_profile: profile }),
  };
}

/** Run `fn` with the commands of the stack under `--home`, or of the API at `--api`. */
function withCommands<T>(g: Global, writes: boolean, fn: (src: CommandsSource) => Promise<T>): Promise<T> {
  if (g.api !== undefined) return fn(apiCommands(apiClient(g.api)));
  return withCliRuntime(g.home, writes, (rt, caller) => fn(storeCommands(tradingControl(rt).commands, caller)));
}

const NO_ACK_NOTE =
  'Stored in the DynamoDB commands table (the gateway polls it every 1 s) and added to the Redis stream when Redis ' +
  'answers; not sent on ZeroMQ and not acknowledged by a gateway (that arrives with the trading chain).';

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

function issuedText(r: CommandIssued): string {
  return `command ${r.command_id} (${r.type}) for ${r.account_profile}: ${r.delivery}${r.delivery_note ? `; ${r.delivery_note}` : ''}`;
}

function riskKillText(s: RiskKillStatus): string {
  const lines = [`risk kill ${s.account_profile}: ${s.state} (revision ${s.revision}) — ${s.text}`];
  if (s.killed_at) lines.push(`killed at ${s.killed_at} by ${s.killed_by ?? '-'} (${s.trigger}: ${s.reason})`);
  if (s.reset_at) lines.push(`reset at ${s.reset_at} by ${s.reset_by ?? '-'}: ${s.reset_note ?? ''}`);
  return lines.join('\n');
}

/** The params object from `--param k=v ...` (`parseParamsFor` the type's schema) or `--params-json` (one of them; none means `{}`). */
export function commandParams(type: string, pairs: string[], paramsJson: string | undefined): Record<string, unknown> {
  if (paramsJson === undefined) {
    return parseParamsFor((COMMAND_PARAMS as Record<string, z.ZodType | undefined>)[type], pairs);
  }
  if (pairs.length > 0) throw new CliUsageError('give the params either as --param k=v or as --params-json, not both');
  let parsed: unknown;
  try {
    parsed = JSON.parse(paramsJson);
  } catch (err) {
    throw new CliUsageError(`--params-json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliUsageError('--params-json must be a JSON object, e.g. \'{"symbols":["SHFE.cu2502"]}\'');
  }
  return parsed as Record<string, unknown>;
}

/** `--reason` of activate/reset: commander requires the flag; an empty or blank value is bad input too. */
function reasonOf(raw: unknown): string {
  const r = String(raw);
  if (r.trim() === '') throw new CliUsageError('--reason must not be empty');
  return r;
}

const collect = (s: string, acc: string[]): string[] => [...acc, s];

export function registerGatewayCommand(program: Command): void {
  const g = (): Global => program.opts<Global>();
  const fail = (e: unknown) => reportError(e, Boolean(g().json));

  const command = componentCommand(program, 'gateway')
    .command('command')
    .summary(
      'send an operator command (kill, flatten, set_target, …) to the gateway: stored (+ Redis stream), no gateway ack yet',
    )
    .description(
      `send an operator command to the gateway of an account profile (operator, audited): ${GATEWAY_COMMAND_TYPES.join(', ')}. ${NO_ACK_NOTE}`,
    )
    .requiredOption('--account <profile>', 'account profile')
    .requiredOption('--type <type>', `command type: one of ${GATEWAY_COMMAND_TYPES.join(', ')}`)
    .option(
      '--param <k=v>',
      'a parameter (repeatable): text where the field takes text (note=2024), else JSON when it parses, e.g. target=2, symbols=["SHFE.cu2502"]',
      collect,
      [],
    )
    .option('--params-json <json>', 'all parameters as one JSON object (instead of --param)')
    .action((o: { account: string; type: string; param: string[]; paramsJson?: string }) =>
      (async () => {
        // The type and the params are the service's to check (the API's messages: validation_failed naming the field).
        const params = commandParams(o.type, o.param, o.paramsJson);
        await withCommands(g(), true, async (src) => {
          const r = await src.issue({ account_profile: o.account, type: o.type, params });
          print(g().json, r, () => issuedText(r));
        });
      })().catch(fail),
    );

  const riskKill = program
    .command('risk-kill')
    .description(
      'the risk kill of an account profile: status, activate (command kill), reset (command reset_risk_kill)',
    );

  const status = riskKill
    .command('status')
    .description('the durable risk-kill record of an account profile (ACTIVE at revision 0 when none was recorded)')
    .requiredOption('--account <profile>', 'account profile')
    .action((o: { account: string }) =>
      (async () => {
        const profile = parseOrThrow(ProfileSchema, o.account, 'account profile');
        await withCommands(g(), false, async (src) => {
          const s = await src.riskKillStatus(profile);
          print(g().json, s, () => riskKillText(s));
        });
      })().catch(fail),
    );

  allowApi(command, status);
  for (const action of ['activate', 'reset'] as const) {
    const cmd = riskKill
      .command(action)
      .summary(
        action === 'activate'
          ? 'kill trading on an account profile (command kill): stored (+ Redis stream), no gateway ack yet'
          : 'reset the risk kill (command reset_risk_kill): stored (+ Redis stream), no gateway ack yet',
      )
      .description(
        action === 'activate'
          ? `kill trading on an account profile: sends the command kill {reason} (operator, audited). ${NO_ACK_NOTE}`
          : `reset the risk kill of an account profile: sends the command reset_risk_kill {note: reason} (operator, audited). ${NO_ACK_NOTE}`,
      )
      .requiredOption('--account <profile>', 'account profile')
      .requiredOption('--reason <text>', action === 'activate' ? 'why (the kill reason)' : 'why (the reset note)')
      .action((o: { account: string; reason: string }) =>
        (async () => {
          const reason = reasonOf(o.reason);
          await withCommands(g(), true, async (src) => {
            const r = await src.riskKill({
              account_profile: o.account,
              action: action === 'activate' ? 'kill' : 'reset',
              reason,
            });
            print(g().json, r, () => issuedText(r));
          });
        })().catch(fail),
      );
    allowApi(cmd);
  }
}

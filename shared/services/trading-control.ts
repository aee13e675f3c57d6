/**
 * The console's side of the trading chain on a runtime: the durable commands and risk-kill stores, the
 * `CommandService` (`/api/gateway/command`, `/api/trading/risk-kill`, `ghtrader gateway command`, `ghtrader risk-kill`)
 * and the `ConsoleStatusService` (`/api/trading/console/status`). Built on first use per runtime and shared by its
 * callers; kept out of `createRuntime` so the functions that never command a gateway (the jobs DLQ, the reconciler,
 * the WebSocket handlers) do not bundle it (each Lambda bundle has a size budget, `cdk/constructs/ghtrader-function.ts`).
 */
import { ulidGen } from '../domain/ids.ts';
import { systemClock } from '../domain/time.ts';
import { DynamoCommandStore } from '../infra/aws/command-store.ts';
import { DynamoRiskKillStore } from '../infra/aws/risk-kill-store.ts';
import { CommandService } from './command-service.ts';
import { ConsoleStatusService } from './console-status.ts';
import type { Runtime } from './runtime.ts';

export interface TradingControl {
  commandStore: DynamoCommandStore;
  riskKillStore: DynamoRiskKillStore;
  commands: CommandService;
  consoleStatus: ConsoleStatusService;
}

const built = new WeakMap<Runtime, TradingControl>();

export function tradingControl(rt: Runtime): TradingControl {
  const known = built.get(rt);
  if (known) return known;
  const { clients, config, audit, warm } = rt;
  const commandStore = new DynamoCommandStore(clients.doc, config.tables.commands);
  const riskKillStore = new DynamoRiskKillStore(clients.doc, config.tables.riskKill);
  const commands = new CommandService({
    commands: commandStore,
    riskKill: riskKillStore,
    audit,
    warm,
    clock: systemClock,
    ids: ulidGen,
    log: rt.log.child({ component: 'commands' }),
    cursorSecret: rt.cursorSecret,
  });
  const consoleStatus = new ConsoleStatusService({
    desired: rt.desired,
    commands,
    telemetry: rt.supervisorTelemetry,
    warm: () => warm.status(),
    clock: systemClock,
  });
  const tc = { commandStore, riskKillStore, commands, consoleStatus };
  built.set(rt, tc);
  return tc;
}

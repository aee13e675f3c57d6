/**
 * Supervisor telemetry on the TradingState table (control-chain §6.2). Items (every read is a key or partition query):
 * - `pk = supervisor#host`, `sk = <host_id>`: tick counters (`ADD`), last tick, lease owner and fencing token;
 * - `pk = supervisor#component`, `sk = <kind>#<profile>`: start/stop counters (`ADD`; per reason as top-level
 *   attributes `rr#<reason>` / `sr#<reason>`, since DynamoDB cannot `ADD` into a map that may not exist yet) and the
 *   backoff/budget memory, written only by a fencing token ≥ the stored one;
 * - `pk = desired#index`, `sk = <kind>#<profile>`: one item per desired document ever written, so a supervisor finds
 *   every profile with a desired document without a scan.
 */
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { COMPONENT_KINDS, type ComponentKind } from '../../domain/control/desired.ts';
import {
  type ComponentTelemetry,
  ComponentTelemetrySchema,
  type ComponentWrite,
  type HostTelemetry,
  HostTelemetrySchema,
  type HostWrite,
  type SupervisorTelemetryStore,
} from '../../domain/control/supervisor-telemetry.ts';
import { parseOrThrow } from '../../domain/control/validation.ts';
import { isoUtc } from '../../domain/time.ts';
import { isConditionFailed } from './dynamo-errors.ts';

const HOST_PK = 'supervisor#host';
const COMPONENT_PK = 'supervisor#component';
const INDEX_PK = 'desired#index';
const RESTART_PREFIX = 'rr#';
const STOP_PREFIX = 'sr#';

export class DynamoSupervisorTelemetry implements SupervisorTelemetryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getComponent(component: ComponentKind, profile: string): Promise<ComponentTelemetry | null> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: { ':pk': COMPONENT_PK, ':sk': `${component}#${profile}` },
        ConsistentRead: true,
      }),
    );
    const item = r.Items?.[0];
    return item ? toComponent(item) : null;
  }

  async writeComponent(w: ComponentWrite): Promise<boolean> {
    const m = w.memory;
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = {
      ':component': w.component,
      ':profile': w.account_profile,
      ':host': w.host_id,
      ':f': w.fencing_token,
      ':state': m.state,
      ':cc': m.consecutive_crashes,
      ':bu': m.backoff_until_ms === null ? null : isoUtc(m.backoff_until_ms),
      ':bw': m.budget_window_ms.map(isoUtc),
      ':clr': m.crash_loop_revision,
      ':psr': m.pending_start_reason,
      ':ras': m.resume_after_shutdown,
      ':le': m.last_exit ? { code: m.last_exit.code, signal: m.last_exit.signal, at: isoUtc(m.last_exit.at_ms) } : null,
      ':str': m.stop_timeout_raised,
      ':la': w.last_action,
      ':lr': w.last_reason,
      ':dr': w.desired_revision,
      ':pid': w.child_pid,
      ':hb': w.heartbeat,
      ':now': isoUtc(w.now_ms),
      ':started': w.add.started ?? 0,
      ':stopped': w.add.stopped ?? 0,
    };
    const adds = ['started_total :started', 'stopped_total :stopped'];
    if (w.add.restart_reason) {
      names['#rr'] = `${RESTART_PREFIX}${w.add.restart_reason}`;
      values[':one_r'] = 1;
      adds.push('#rr :one_r');
    }
    if (w.add.stop_reason) {
      names['#sr'] = `${STOP_PREFIX}${w.add.stop_reason}`;
      values[':one_s'] = 1;
      adds.push('#sr :one_s');
    }
    const sets = [
      'component = :component',
      'account_profile = :profile',
      'host_id = :host',
      'fencing_token = :f',
      '#state = :state',
      'consecutive_crashes = :cc',
      'backoff_until = :bu',
      'budget_window = :bw',
      'crash_loop_revision = :clr',
      'pending_start_reason = :psr',
      'resume_after_shutdown = :ras',
      'last_exit = :le',
      'stop_timeout_raised = :str',
      'last_action = :la',
      'last_reason = :lr',
      'desired_revision = :dr',
      'child_pid = :pid',
      'heartbeat = :hb',
      'updated_at = :now',
    ];
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: COMPONENT_PK, sk: `${w.component}#${w.account_profile}` },
          UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(fencing_token) OR fencing_token <= :f',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async listComponents(): Promise<ComponentTelemetry[]> {
    return (await this.queryAll(COMPONENT_PK)).map(toComponent);
  }

  async writeHost(w: HostWrite): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: HOST_PK, sk: w.host_id },
        UpdateExpression:
          'SET host_id = :h, last_tick_at = :now, last_tick_error = :err, lease_owner = :owner, fencing_token = :f, ' +
          'lease_expires_at = :exp, poll_s = :poll, active = :active, updated_at = :now ' +
          'ADD ticks_total :one, tick_failures_total :fail',
        ExpressionAttributeValues: {
          ':h': w.host_id,
          ':now': isoUtc(w.now_ms),
          ':err': w.failure ?? '',
          ':owner': w.lease_owner,
          ':f': w.fencing_token,
          ':exp': isoUtc(w.lease_expires_at_ms),
          ':poll': w.poll_s,
          ':active': w.active,
          ':one': 1,
          ':fail': w.failure === null ? 0 : 1,
        },
      }),
    );
  }

  async listHosts(): Promise<HostTelemetry[]> {
    return (await this.queryAll(HOST_PK)).map((item) => {
      const { pk: _pk, sk: _sk, ...rest } = item;
      return parseOrThrow(HostTelemetrySchema, rest, `stored supervisor host ${String(item.sk)}`);
    });
  }

  async indexProfile(component: ComponentKind, profile: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: INDEX_PK, sk: `${component}#${profile}`, component, account_profile: profile },
      }),
    );
  }

  async indexedProfiles(): Promise<{ component: ComponentKind; profile: string }[]> {
    const out: { component: ComponentKind; profile: string }[] = [];
    for (const item of await this.queryAll(INDEX_PK)) {
      const component = item.component;
      const profile = item.account_profile;
      if (!COMPONENT_KINDS.includes(component as ComponentKind) || typeof profile !== 'string') {
        throw new Error(`malformed desired index item ${JSON.stringify(item.sk)} in ${this.table}`);
      }
      out.push({ component: component as ComponentKind, profile });
    }
    return out;
  }

  private async queryAll(pk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function toComponent(item: Record<string, unknown>): ComponentTelemetry {
  const restart: Record<string, number> = {};
  const stop: Record<string, number> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if (k === 'pk' || k === 'sk') continue;
    if (k.startsWith(RESTART_PREFIX)) restart[k.slice(RESTART_PREFIX.length)] = Number(v);
    else if (k.startsWith(STOP_PREFIX)) stop[k.slice(STOP_PREFIX.length)] = Number(v);
    else rest[k] = v;
  }
  return parseOrThrow(
    ComponentTelemetrySchema,
    { ...rest, restart_reasons_total: restart, stop_reasons_total: stop },
    `stored supervisor component ${String(item.sk)}`,
  );
}

/**
 * The component heartbeat as the supervisor reads it (control-chain §6.2, trading-chain §6): the state file
 * `$GHTRADER_HOME/state/<component>/<p>/state.json`, written atomically by the component, whose `state_revision` and
 * `updated_at` advance at least once per heartbeat. A file left by an earlier run is not a heartbeat: only a revision
 * above the one present when the child started counts.
 */
import path from 'node:path';
import * as z from 'zod';
import type { ComponentKind } from '#shared/domain/control/desired.ts';
import type { HeartbeatView } from '#shared/domain/control/supervisor-telemetry.ts';
import { readTextIfExists } from '#shared/infra/local/files.ts';

/** The fields the supervisor needs; the rest of the document is the component's business. */
const StateHeadSchema = z.looseObject({
  state_revision: z.number().int().min(0),
  updated_at: z.string().refine((s) => Number.isFinite(Date.parse(s)), 'expected an ISO-8601 instant'),
});

export function stateFilePath(home: string, component: ComponentKind, profile: string): string {
  return path.join(home, 'state', component, profile, 'state.json');
}

/** The state file's revision and time, or null when there is none yet. Malformed -> throws naming the file. */
export async function readStateHead(
  home: string,
  component: ComponentKind,
  profile: string,
): Promise<{ state_revision: number; updated_at: string } | null> {
  const file = stateFilePath(home, component, profile);
  const text = await readTextIfExists(file);
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`state file ${file} is not JSON: ${(err as Error).message}`);
  }
  const r = StateHeadSchema.safeParse(json);
  if (!r.success) throw new Error(`state file ${file} lacks state_revision/updated_at: ${r.error.message}`);
  return { state_revision: r.data.state_revision, updated_at: r.data.updated_at };
}

/** Heartbeat age for one running child: null until the state advances past the baseline taken at its start. */
export class HeartbeatWatch {
  private constructor(private readonly baseline: number | null) {}

  /** Take the baseline when the child starts. */
  static async begin(home: string, component: ComponentKind, profile: string): Promise<HeartbeatWatch> {
    return new HeartbeatWatch((await readStateHead(home, component, profile))?.state_revision ?? null);
  }

  /** The current heartbeat (`age_s` null while the child has not advanced the state yet). */
  async observe(home: string, component: ComponentKind, profile: string, nowMs: number): Promise<HeartbeatView | null> {
    const head = await readStateHead(home, component, profile);
    if (!head) return null;
    const advanced = this.baseline === null || head.state_revision > this.baseline;
    return {
      state_revision: head.state_revision,
      updated_at: head.updated_at,
      age_s: advanced ? Math.max(0, (nowMs - Date.parse(head.updated_at)) / 1000) : null,
    };
  }
}

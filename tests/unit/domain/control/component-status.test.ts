/**
 * The `/api/status` summaries of the supervisors and the live-update broadcaster (pure wording of richer views).
 */
import { describe, expect, it } from 'vitest';
import { broadcasterComponent, supervisorComponent } from '#shared/domain/control/component-status.ts';
import type { SupervisorsInput } from '#shared/domain/control/slo.ts';

const AT = '2026-11-21T10:00:00.000Z';
const NOW = Date.parse(AT);

function host(host_id: string, lease_ok = true) {
  return { host_id, lease_ok, last_tick_at: AT, tick_failures_total: 0, silent_ticks: 0, idle: true };
}

describe('supervisorComponent', () => {
  it('is empty, saying what to run, when no supervisor ever reported', () => {
    const s: SupervisorsInput = { hosts: [], restarts_total: 0, crash_loop: [], message: 'run `ghtrader supervisor`' };
    expect(supervisorComponent(s, AT)).toMatchObject({ state: 'empty', text: 'run `ghtrader supervisor`' });
  });

  it('is ok with every lease held and no crash loop', () => {
    const s: SupervisorsInput = { hosts: [host('colo-1'), host('colo-2')], restarts_total: 1, crash_loop: [] };
    expect(supervisorComponent(s, AT)).toEqual({
      state: 'ok',
      text: '2 supervisors live (colo-1, colo-2), 1 restart',
      error: '',
      updated_at: AT,
      stale: false,
    });
  });

  it('warns naming a lapsed lease and a crash loop', () => {
    const s: SupervisorsInput = {
      hosts: [host('colo-1'), host('colo-2', false)],
      restarts_total: 5,
      crash_loop: ['gateway:main'],
    };
    expect(supervisorComponent(s, AT)).toMatchObject({
      state: 'warn',
      text: '1 supervisor live (colo-1, colo-2), 5 restarts; lease lapsed on colo-2; crash loop: gateway:main',
      error: 'crash_loop',
    });
  });
});

describe('broadcasterComponent', () => {
  it('warns, naming the command, when no counters were ever flushed', () => {
    expect(broadcasterComponent(null, NOW, AT)).toMatchObject({ state: 'warn', error: 'broadcaster_absent' });
    expect(broadcasterComponent(null, NOW, AT).text).toContain('--broadcaster-endpoint');
  });

  it('is ok with fresh counters and a clean last round', () => {
    const c = { connections: 1, last_broadcast_error: null, as_of: AT };
    expect(broadcasterComponent(c, NOW + 14_000, AT)).toEqual({
      state: 'ok',
      text: '1 connection',
      error: '',
      updated_at: AT,
      stale: false,
    });
  });

  it('warns when its last round failed, and marks counters older than 15 s stale', () => {
    const failing = { connections: 4, last_broadcast_error: 'GoneException (410)', as_of: AT };
    expect(broadcasterComponent(failing, NOW, AT)).toMatchObject({
      state: 'warn',
      text: '4 connections; last round failed: GoneException (410)',
      error: 'broadcast_failures',
    });
    const old = { connections: 4, last_broadcast_error: null, as_of: AT };
    expect(broadcasterComponent(old, NOW + 16_000, AT)).toMatchObject({
      state: 'warn',
      error: 'broadcaster_stale',
      stale: true,
    });
  });
});

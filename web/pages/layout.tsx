/**
 * Console chrome (control-chain §8): context row (brand, variety switcher, badges, user menu) -> workspace nav ->
 * alert strip -> the page. The warm-path badge is rendered from the status snapshot on first paint and kept current
 * by the client script (`system.warm_path` over `/ws`, and `/api/status` while it polls).
 */
import type { Child } from 'hono/jsx';
import { type Role, roleAtLeast } from '#shared/domain/control/roles.ts';
import type { ComponentStatus, StatusSnapshot } from '#shared/domain/control/status.ts';
import { VARIETIES, type Variety } from '#shared/domain/control/varieties.ts';
import type { ActiveRiskKill } from '../hot-reads.ts';
import { Document } from './document.tsx';
import { PageData } from './page-data.tsx';

export const SECTIONS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'market', label: 'Market' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'data', label: 'Data' },
  { id: 'models', label: 'Models' },
  { id: 'trading', label: 'Trading' },
  { id: 'config', label: 'Config' },
  { id: 'explorer', label: 'Explorer' },
  { id: 'system', label: 'System' },
  { id: 'audit', label: 'Audit' },
] as const;
export type SectionId = (typeof SECTIONS)[number]['id'];

export interface ChromeContext {
  variety: Variety;
  section: SectionId;
  user: { username: string; role: Role };
  /** Null when the status source failed; the alert strip then says so. */
  status: StatusSnapshot | null;
  assets: { css: string; js: string };
  /** The session's CSRF token (null for bearer callers, who never use pages' actions). */
  csrfToken: string | null;
  /**
   * Profiles whose durable risk kill is active (the risk-kill badge); null when no command service is wired,
   * `unavailable` when the read failed (the badge then says the state is unknown). Absent: no badge.
   */
  riskKills?: ActiveRiskKill[] | null | 'unavailable';
}

export interface LayoutProps {
  title: string;
  ctx: ChromeContext;
  pageData?: Record<string, unknown>;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  const { ctx } = props;
  const degraded = ctx.status?.warm_path_degraded ?? false;
  const running = ctx.status?.running_count;
  return (
    <Document title={props.title} cssHref={ctx.assets.css} jsHref={ctx.assets.js}>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="chrome">
          <div class="context-row">
            <a class="brand" href={`/v/${ctx.variety}/dashboard`}>
              ghtrader
            </a>
            <nav aria-label="Variety" class="varieties">
              {VARIETIES.map((v) => (
                <a
                  href={`/v/${v}/${ctx.section}`}
                  aria-current={v === ctx.variety ? 'page' : undefined}
                  class={v === ctx.variety ? 'current' : undefined}
                >
                  {v.toUpperCase()}
                </a>
              ))}
            </nav>
            <div class="badges">
              <ComponentBadge id="data-badge" label="Data" status={ctx.status?.components.tickstore} />
              <ComponentBadge id="supervisor-badge" label="Supervisor" status={ctx.status?.components.supervisor} />
              <RiskKillBadge variety={ctx.variety} kills={ctx.riskKills} />
              <p id="warm-path-badge" class="badge badge-warn" hidden={!degraded}>
                <span aria-hidden="true">⚠</span> Warm path degraded
                <span id="warm-path-reasons" class="muted">
                  {degraded ? ` (${ctx.status?.warm_path_reasons.join(', ') ?? ''})` : ''}
                </span>
              </p>
            </div>
            <div class="user-menu">
              <span>
                {ctx.user.username} <span class="muted">({ctx.user.role})</span>
              </span>
              <button type="button" id="logout">
                Log out
              </button>
            </div>
          </div>
          <nav aria-label="Workspaces" class="sections">
            {/* The audit log is operator+ (control-chain §2): not offered to viewers. */}
            {SECTIONS.filter((s) => s.id !== 'audit' || roleAtLeast(ctx.user.role, 'operator')).map((s) => (
              <a
                id={`nav-${s.id}`}
                href={`/v/${ctx.variety}/${s.id}`}
                aria-current={s.id === ctx.section ? 'page' : undefined}
                class={s.id === ctx.section ? 'current' : undefined}
              >
                {s.label}
                {s.id === 'jobs' && typeof running === 'number' ? ` (${running} running)` : ''}
              </a>
            ))}
          </nav>
        </header>
        <div class="alert-strip">
          {ctx.status === null ? (
            <p class="badge badge-error" role="alert">
              <span aria-hidden="true">✖</span> System status unavailable; see the System page and the server log.
            </p>
          ) : null}
        </div>
        <main id="main">{props.children}</main>
        <div id="toasts" class="toasts" role="status" aria-live="polite" />
        <PageData
          data={{
            variety: ctx.variety,
            section: ctx.section,
            user: ctx.user,
            csrf_token: ctx.csrfToken,
            warm_path_degraded: degraded,
            ...props.pageData,
          }}
        />
      </body>
    </Document>
  );
}

/**
 * The risk-kill badge (§8): every known profile whose durable kill is active, each linking to its Trading page, as
 * `role=alert`; "unknown" when the records could not be read (never shown as "no kill"); nothing when none is active.
 */
function RiskKillBadge(props: { variety: Variety; kills: ActiveRiskKill[] | null | 'unavailable' | undefined }) {
  const { kills } = props;
  if (kills === 'unavailable') {
    return (
      <p id="risk-kill-badge" class="badge badge-warn" data-risk-kill="unknown">
        <span aria-hidden="true">⚠</span> Risk kill: state unknown (the risk-kill records could not be read)
      </p>
    );
  }
  if (!kills || kills.length === 0) return null;
  return (
    <p id="risk-kill-badge" class="badge badge-error" role="alert" data-risk-kill="active">
      <span aria-hidden="true">✖</span> Risk kill active:{' '}
      {kills.map((k, i) => (
        <>
          {i > 0 ? ', ' : ''}
          <a href={`/v/${props.variety}/trading?profile=${encodeURIComponent(k.account_profile)}`} title={k.reason}>
            {k.account_profile}
          </a>
        </>
      ))}
    </p>
  );
}

/**
 * A chrome badge (§8: icon + text, never colour alone) for a component that is not ok: shown only while its state is
 * warn or error, with the component's own text; nothing for ok, empty (not in this deployment) or unknown.
 */
function ComponentBadge(props: { id: string; label: string; status: ComponentStatus | undefined }) {
  const st = props.status;
  if (!st || (st.state !== 'warn' && st.state !== 'error')) return null;
  return (
    <p id={props.id} class={`badge badge-${st.state}`} title={st.text}>
      <span aria-hidden="true">{st.state === 'error' ? '✖' : '⚠'}</span> {props.label}:{' '}
      {st.state === 'error' ? 'error' : 'warning'}
      <span class="muted"> ({st.text})</span>
    </p>
  );
}

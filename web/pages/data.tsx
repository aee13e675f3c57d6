/**
 * `/v/{var}/data` (control-chain §8): readiness from the last validation (layered states, `reason_code`,
 * `action_hint`, top gap days), the last main_l5 build, the coverage calendar heat map (one glyph per state, a text
 * summary and a table view), the roll schedule with segments and rolls, and (operator) the data-job actions. The
 * first paint carries everything; the client script submits jobs and refreshes the heat map. Without the data chain
 * in this process the page says so.
 */
import type { Child } from 'hono/jsx';
import type {
  BuildView,
  CoverageView,
  DataOverview,
  LayerState,
  ScheduleRunView,
  ScheduleView,
  Section,
  ValidationView,
} from '#shared/services/data/data-view.ts';
import {
  CELL_STATES,
  type CellState,
  coverageSummary,
  fmtCount,
  type HeatCell,
  heatMap,
  LEGEND,
  overviewSignature,
  problemDays,
} from '../client/data-heatmap.ts';
import { type ChromeContext, Layout } from './layout.tsx';

/** Rows of the problem-days table view (newest first). */
export const PROBLEM_TABLE_ROWS = 200;
const WEEKDAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];

const LAYER: Record<LayerState | 'noop', { icon: string; text: string; cls: string }> = {
  ok: { icon: '✓', text: 'OK', cls: 'state-ok' },
  warn: { icon: '⚠', text: 'Warning', cls: 'state-warn' },
  error: { icon: '✖', text: 'Error', cls: 'state-error' },
  noop: { icon: '○', text: 'No-op (up to date)', cls: 'state-empty' },
};

const BUILD_STATUS: Record<string, { icon: string; text: string; cls: string }> = {
  promoted: { icon: '✓', text: 'Promoted', cls: 'state-ok' },
  rejected: { icon: '✖', text: 'Rejected', cls: 'state-error' },
};

function LayerLabel(props: { state: LayerState | 'noop'; id?: string }) {
  const s = LAYER[props.state];
  return (
    <span class={`state ${s.cls}`} id={props.id} data-state={props.state}>
      <span aria-hidden="true">{s.icon}</span> {s.text}
    </span>
  );
}

export function fmtPct(ratio: number | null | undefined, digits = 2): string {
  return typeof ratio === 'number' && Number.isFinite(ratio) ? `${(ratio * 100).toFixed(digits)} %` : '—';
}

const orDash = (v: string | number | null | undefined): string =>
  v === null || v === undefined || v === '' ? '—' : typeof v === 'number' ? fmtCount(v) : v;

/** A section's three outcomes: its content, "not run yet", or the error that kept it from being read. */
function SectionBody<T>(props: { s: Section<T>; id: string; render: (data: T) => Child }) {
  const { s } = props;
  if (s.status === 'none') {
    return (
      <p class="empty" id={`${props.id}-none`}>
        <span aria-hidden="true">○</span> {s.message}
      </p>
    );
  }
  if (s.status === 'error') {
    return (
      <p class="form-error" id={`${props.id}-error`}>
        <span aria-hidden="true">✖</span> Could not read this section: <code>{s.error.code}</code> {s.error.message}
      </p>
    );
  }
  return <>{props.render(s.data)}</>;
}

/** The data kinds' submit actions (operator), on the Data page and as the dashboard's quick actions. */
export function DataActions(props: { variety: string; heading?: string }) {
  return (
    <section aria-labelledby="data-actions-h" class="panel">
      <h2 id="data-actions-h">{props.heading ?? 'Run data jobs'}</h2>
      <div class="data-actions">
        <div>
          <button
            type="button"
            id="data-submit-calendar"
            data-job-kind="data.calendar"
            data-job-params='{"refresh":true}'
            data-job-global="true"
            aria-describedby="d-calendar"
          >
            Refresh calendar
          </button>
          <p class="muted" id="d-calendar">
            <code>data.calendar</code>: download the holiday list (used after the shipped list ends) for every variety.
          </p>
        </div>
        <div>
          <button type="button" id="data-submit-schedule" data-job-kind="data.schedule" aria-describedby="d-sched">
            Rebuild schedule
          </button>
          <p class="muted" id="d-sched">
            <code>data.schedule</code>: recompute the roll schedule from the provider mapping (no-op when unchanged).
          </p>
        </div>
        <div>
          <button type="button" id="data-submit-main-l5" data-job-kind="data.main_l5" aria-describedby="d-update">
            Update main_l5
          </button>
          <p class="muted" id="d-update">
            <code>data.main_l5</code>: build the scheduled days not stored yet, then validate and promote.
          </p>
        </div>
        <div>
          <button
            type="button"
            class="danger"
            id="data-submit-main-l5-full"
            data-job-kind="data.main_l5"
            data-job-params='{"full_rebuild":true}'
            data-confirm={`Full rebuild of KQ.m@SHFE.${props.variety}: delete its stored main_l5 ticks and download every scheduled day again?`}
            aria-describedby="d-full"
          >
            Full rebuild main_l5…
          </button>
          <p class="muted" id="d-full">
            <code>data.main_l5</code> with <code>full_rebuild</code>: deletes this symbol's ticks first; asks to
            confirm.
          </p>
        </div>
        <form id="data-validate-form" class="inline-form" aria-describedby="d-validate">
          <button type="submit" id="data-submit-validate">
            Validate
          </button>
          <input type="checkbox" id="data-validate-incremental" name="incremental" />
          <label for="data-validate-incremental">only days not validated yet (incremental)</label>
          <p class="muted" id="d-validate">
            <code>data.validate</code>: session coverage, gaps and field quality against the policy.
          </p>
        </form>
      </div>
      <ul id="data-job-links" class="data-job-links" aria-live="polite" aria-label="Submitted jobs" />
    </section>
  );
}

function ValidationPanel(props: { v: ValidationView }) {
  const { v } = props;
  return (
    <>
      <dl class="record" id="data-validation">
        <dt>Overall</dt>
        <dd>
          <LayerLabel state={v.state === 'noop' ? 'noop' : v.overall_state} id="data-validation-overall" />
        </dd>
        <dt>Engineering</dt>
        <dd>
          <LayerLabel state={v.engineering_state} />
        </dd>
        <dt>Policy</dt>
        <dd>
          <LayerLabel state={v.policy_state} />
        </dd>
        <dt>Source</dt>
        <dd>
          <LayerLabel state={v.source_state} />
        </dd>
        <dt>Reason</dt>
        <dd>
          <code id="data-validation-reason">{v.reason_code}</code>
        </dd>
        <dt>Next step</dt>
        <dd id="data-validation-hint">{v.action_hint}</dd>
        <dt>Checked days</dt>
        <dd>
          {fmtCount(v.checked_days)}
          {v.range.start || v.range.end ? (
            <span class="muted">
              {' '}
              ({orDash(v.range.start)} to {orDash(v.range.end)})
            </span>
          ) : null}
        </dd>
        <dt>Missing days</dt>
        <dd>
          {fmtCount(v.missing_days)}
          {v.missing_days_sample.length > 0 ? (
            <span class="muted"> (e.g. {v.missing_days_sample.join(', ')})</span>
          ) : null}
        </dd>
        <dt>Missing seconds</dt>
        <dd>{fmtPct(v.missing_seconds_ratio, 3)}</dd>
        <dt>Validated at</dt>
        <dd>{orDash(v.created_at)}</dd>
        <dt>Report</dt>
        <dd>
          <code class="uri">{v.report_uri}</code>
        </dd>
      </dl>
      <h3 id="data-gaps-h">Top gap days</h3>
      {v.top_gap_days.length === 0 ? (
        <p class="empty">No days with gaps, half-second misses, outside-session ticks or missing sessions.</p>
      ) : (
        <table id="data-gap-days" aria-labelledby="data-gaps-h">
          <caption>
            Worst {v.top_gap_days.length} of {fmtCount(v.issues_total)} days with issues, as the report orders them
          </caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Contract</th>
              <th scope="col" class="num">
                Missing segments
              </th>
              <th scope="col" class="num">
                Gaps &gt; 30 s
              </th>
              <th scope="col" class="num">
                Max gap (s)
              </th>
              <th scope="col" class="num">
                Missing seconds
              </th>
              <th scope="col">Whole day missing</th>
            </tr>
          </thead>
          <tbody>
            {v.top_gap_days.map((g) => (
              <tr>
                <th scope="row">{g.trading_day}</th>
                <td>{orDash(g.underlying_contract)}</td>
                <td class="num">{orDash(g.missing_segments_total)}</td>
                <td class="num">{orDash(g.gap_count_gt_30s)}</td>
                <td class="num">{orDash(g.max_gap_s)}</td>
                <td class="num">{fmtPct(g.missing_seconds_ratio)}</td>
                <td>{g.missing_day === null ? '—' : g.missing_day ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function BuildPanel(props: { b: BuildView }) {
  const { b } = props;
  const st = BUILD_STATUS[b.status] ?? { icon: '?', text: b.status, cls: 'state-unknown' };
  return (
    <dl class="record" id="data-build">
      <dt>Status</dt>
      <dd>
        <span class={`state ${st.cls}`} id="data-build-status" data-status={b.status}>
          <span aria-hidden="true">{st.icon}</span> {st.text}
        </span>
      </dd>
      <dt>Build</dt>
      <dd>
        <code>{b.build_id}</code>
      </dd>
      <dt>Mode</dt>
      <dd>{b.mode}</dd>
      <dt>Rows</dt>
      <dd>{fmtCount(b.rows_total)}</dd>
      <dt>Days written</dt>
      <dd>{orDash(b.days_written)}</dd>
      <dt>Covered</dt>
      <dd>
        {orDash(b.covered_first_day)} to {orDash(b.covered_last_day)}
        {b.aligned_start ? <span class="muted"> (aligned start {b.aligned_start})</span> : null}
      </dd>
      <dt>Built at</dt>
      <dd>{orDash(b.built_at)}</dd>
      <dt>Validation gate</dt>
      <dd>
        {b.validation_gate ? (
          <>
            {orDash(b.validation_gate.state)}
            {b.validation_gate.reason_code ? (
              <>
                {' '}
                <code>{b.validation_gate.reason_code}</code>
              </>
            ) : null}
          </>
        ) : (
          '—'
        )}
      </dd>
      <dt>Health errors</dt>
      <dd id="data-build-health">
        {b.health_errors === null ? (
          '—'
        ) : b.health_errors.length === 0 ? (
          'none'
        ) : (
          <ul class="health-errors">
            {b.health_errors.map((e) => (
              <li>{e}</li>
            ))}
          </ul>
        )}
        {b.report_note ? (
          <p class="muted">
            <span aria-hidden="true">⚠</span> {b.report_note}
          </p>
        ) : null}
      </dd>
      <dt>Report</dt>
      <dd>{b.report_uri ? <code class="uri">{b.report_uri}</code> : '—'}</dd>
    </dl>
  );
}

function HeatCellEl(props: { c: HeatCell; first: boolean; offset: number }) {
  const { c } = props;
  const cls = `hm hm-${c.state}${c.level > 0 ? ` hm-l${c.level}` : ''}${props.first ? ` hm-start-${props.offset}` : ''}`;
  if (c.state === 'outside') return <span class={cls} aria-hidden="true" />;
  return (
    <span class={cls} role="img" aria-label={c.label} title={c.label} data-day={c.day} data-state={c.state}>
      {c.glyph}
    </span>
  );
}

function Legend() {
  return (
    <ul class="hm-legend" aria-label="Legend">
      {LEGEND.map((s: CellState) => (
        <li>
          <span class={`hm hm-${s}${s === 'complete' ? ' hm-l4' : ''}`} aria-hidden="true">
            {CELL_STATES[s].glyph}
          </span>{' '}
          {CELL_STATES[s].text}
        </li>
      ))}
    </ul>
  );
}

/** The calendar heat map (also rebuilt by the client on refresh from the same model). */
export function HeatMap(props: { cov: CoverageView }) {
  const years = heatMap(props.cov);
  return (
    <>
      {years.map((y, i) => (
        <details class="hm-year" open={i >= years.length - 2} data-year={y.year}>
          <summary>{y.year}</summary>
          <div class="hm-months">
            {y.months.map((m) => (
              <figure class="hm-month" data-month={m.month}>
                <figcaption class="hm-month-label">{m.label}</figcaption>
                <div class="hm-grid">
                  {WEEKDAYS.map((w) => (
                    <span class="hm-wd" aria-hidden="true">
                      {w}
                    </span>
                  ))}
                  {m.cells.map((c, idx) => (
                    <HeatCellEl c={c} first={idx === 0} offset={m.offset} />
                  ))}
                </div>
              </figure>
            ))}
          </div>
        </details>
      ))}
    </>
  );
}

function CoveragePanel(props: { cov: CoverageView }) {
  const { cov } = props;
  const problems = problemDays(cov).reverse();
  const shown = problems.slice(0, PROBLEM_TABLE_ROWS);
  return (
    <figure class="data-figure">
      <figcaption id="data-coverage-summary">{coverageSummary(cov)}</figcaption>
      {cov.note ? (
        <p class="muted" id="data-coverage-note">
          <span aria-hidden="true">⚠</span> {cov.note}
        </p>
      ) : null}
      <Legend />
      <div id="data-heatmap" class="heatmap">
        <HeatMap cov={cov} />
      </div>
      <details>
        <summary>
          Table view: {fmtCount(problems.length)} days not complete
          {problems.length > shown.length ? ` (newest ${shown.length} shown)` : ''}
        </summary>
        {shown.length === 0 ? (
          <p class="empty">Every listed day is complete.</p>
        ) : (
          <table id="data-problem-days">
            <caption>Days that are not complete, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Rows
                </th>
                <th scope="col">Main contract</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((d) => (
                <tr>
                  <th scope="row">{d.trading_day}</th>
                  <td>
                    <span aria-hidden="true">{CELL_STATES[d.state].glyph}</span> {CELL_STATES[d.state].text}
                  </td>
                  <td class="num">{fmtCount(d.rows)}</td>
                  <td>{orDash(d.main_contract)}</td>
                  <td>{orDash(d.reason)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </details>
    </figure>
  );
}

function ScheduleRun(props: { run: Section<ScheduleRunView> }) {
  const { run } = props;
  return (
    <>
      <h3>Last schedule run</h3>
      <SectionBody
        s={run}
        id="data-schedule-run"
        render={(r) => (
          <dl class="record" id="data-schedule-run">
            <dt>Run at</dt>
            <dd>{orDash(r.created_at)}</dd>
            <dt>Change</dt>
            <dd>{orDash(r.relation)}</dd>
            <dt>Window</dt>
            <dd>
              {orDash(r.start_date)} to {orDash(r.end_date)}
              {r.start_date_source ? <span class="muted"> (start from {r.start_date_source})</span> : null}
            </dd>
            <dt>Source vouches up to</dt>
            <dd>{orDash(r.as_of)}</dd>
            <dt>Warnings</dt>
            <dd>{fmtCount(r.warnings)}</dd>
            <dt>Health</dt>
            <dd>
              {r.health_ok === null ? '—' : <LayerLabel state={r.health_ok ? 'ok' : 'error'} />}
              {r.health_problems.length > 0 ? <span> {r.health_problems.join('; ')}</span> : null}
            </dd>
            <dt>Report</dt>
            <dd>
              <code class="uri">{r.report_uri}</code>
            </dd>
          </dl>
        )}
      />
    </>
  );
}

function SchedulePanel(props: { s: ScheduleView }) {
  const { s } = props;
  return (
    <>
      <dl class="record">
        <dt>schedule_hash</dt>
        <dd>
          <code id="data-schedule-hash">{s.schedule_hash}</code>
        </dd>
        <dt>Days</dt>
        <dd>
          {fmtCount(s.days)} trading days, {s.start} to {s.end}
        </dd>
        <dt>Segments</dt>
        <dd>
          {s.segments.length} ({s.rolls.length} rolls)
        </dd>
      </dl>
      <table id="data-segments">
        <caption>Segments: one main contract each, in order</caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              Segment
            </th>
            <th scope="col">Main contract</th>
            <th scope="col">First day</th>
            <th scope="col">Last day</th>
            <th scope="col" class="num">
              Days
            </th>
          </tr>
        </thead>
        <tbody>
          {s.segments.map((g) => (
            <tr>
              <td class="num">{g.segment_id}</td>
              <th scope="row">{g.main_contract}</th>
              <td>{g.first_day}</td>
              <td>{g.last_day}</td>
              <td class="num">{g.days}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {s.rolls.length === 0 ? (
        <p class="empty">No rolls: one main contract over the whole window.</p>
      ) : (
        <table id="data-rolls">
          <caption>Roll dates: the new contract is main from that trading day's open (night session included)</caption>
          <thead>
            <tr>
              <th scope="col">Roll day</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
            </tr>
          </thead>
          <tbody>
            {s.rolls.map((r) => (
              <tr>
                <th scope="row">{r.trading_day}</th>
                <td>{r.from_contract}</td>
                <td>{r.to_contract}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export interface DataPageProps {
  ctx: ChromeContext;
  overview: DataOverview | null;
  offMessage: string;
  canOperate: boolean;
}

export function DataPage(props: DataPageProps) {
  const { ctx, overview } = props;
  const symbol = `KQ.m@SHFE.${ctx.variety}`;
  return (
    <Layout
      title={`Data · ${ctx.variety.toUpperCase()}`}
      ctx={ctx}
      pageData={{
        page: 'data',
        data_available: overview !== null,
        can_operate: props.canOperate,
        signature: overview ? overviewSignature(overview) : null,
      }}
    >
      <h1>Data · {ctx.variety.toUpperCase()}</h1>
      <p class="muted">
        Continuous main_l5 dataset <code>{symbol}</code>
      </p>
      {overview === null ? (
        <section class="panel placeholder" aria-labelledby="data-off-h" id="data-off">
          <h2 id="data-off-h">
            <span aria-hidden="true">⏻</span> Data chain not running in this process
          </h2>
          <p>{props.offMessage}</p>
        </section>
      ) : (
        <>
          <p id="data-refresh" class="badge badge-warn" hidden>
            <span aria-hidden="true">⟳</span> Newer results are available.{' '}
            <a href={`/v/${ctx.variety}/data`}>Reload the page</a>
          </p>
          {props.canOperate ? <DataActions variety={ctx.variety} /> : null}
          <div class="data-grid">
            <section class="panel" aria-labelledby="data-validation-h">
              <h2 id="data-validation-h">Readiness: last validation</h2>
              <SectionBody s={overview.validation} id="data-validation" render={(v) => <ValidationPanel v={v} />} />
            </section>
            <section class="panel" aria-labelledby="data-build-h">
              <h2 id="data-build-h">Last main_l5 build</h2>
              <SectionBody s={overview.build} id="data-build" render={(b) => <BuildPanel b={b} />} />
            </section>
          </div>
          <section class="panel" aria-labelledby="data-coverage-h">
            <h2 id="data-coverage-h">Coverage by trading day</h2>
            <div id="data-coverage">
              <SectionBody s={overview.coverage} id="data-coverage" render={(cov) => <CoveragePanel cov={cov} />} />
            </div>
          </section>
          <section class="panel" aria-labelledby="data-schedule-h">
            <h2 id="data-schedule-h">Roll schedule</h2>
            <SectionBody s={overview.schedule} id="data-schedule" render={(s) => <SchedulePanel s={s} />} />
            <ScheduleRun run={overview.schedule_run} />
          </section>
        </>
      )}
    </Layout>
  );
}

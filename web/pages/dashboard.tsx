/**
 * `/v/{var}/dashboard` (control-chain §8): KPIs, the pipeline strip (Calendar -> … -> Train, each stage linking its
 * last job), guardrails (config values with their source, the last build's validation gate, live-trading as the
 * gateway reports it), the SLO summary, the newest 20 jobs and, for operators, the data jobs' quick actions. States are icon + text,
 * never colour alone. What the trading and model chains will fill (models, trading mode, today's PnL) says so.
 */
import type { PipelineStage, StageState } from '#shared/domain/control/pipeline.ts';
import type { MarketJson } from '../routes/api-market.ts';
import type { DashboardModel, DashboardTrading, Guardrail } from '../routes/dashboard-model.ts';
import { DataActions } from './data.tsx';
import { JobsTable } from './jobs.tsx';
import { type ChromeContext, Layout } from './layout.tsx';
import { ChartSection, marketPageData } from './market.tsx';
import { SloSummary } from './slo-summary.tsx';
import { JobStatusLabel } from './state-label.tsx';

const STAGE: Record<StageState, { icon: string; text: string }> = {
  ok: { icon: '✓', text: 'OK' },
  warn: { icon: '⚠', text: 'Warning' },
  error: { icon: '✖', text: 'Error' },
  running: { icon: '▶', text: 'Running' },
  none: { icon: '○', text: 'Not run' },
  not_built: { icon: '◌', text: 'Not built' },
};

const GUARD: Record<Guardrail['state'], { icon: string; text: string }> = {
  ok: { icon: '✓', text: 'OK' },
  warn: { icon: '⚠', text: 'Warning' },
  error: { icon: '✖', text: 'Error' },
  unknown: { icon: '?', text: 'Unknown' },
};

function Stage(props: { s: PipelineStage; variety: string }) {
  const { s, variety } = props;
  const st = STAGE[s.state];
  return (
    <li class={`stage stage-${s.state}`} data-stage={s.id} data-state={s.state}>
      <span class="stage-name">{s.label}</span>
      <span class={`state stage-state-${s.state}`}>
        <span aria-hidden="true">{st.icon}</span> {st.text}
      </span>
      <span class="stage-text">{s.text}</span>
      {s.job ? (
        <a href={`/v/${variety}/jobs/${s.job.job_id}`} class="stage-job">
          last job <JobStatusLabel status={s.job.status} />
          <span class="visually-hidden"> {s.job.job_id}</span>
        </a>
      ) : null}
    </li>
  );
}

/**
 * The `default` profile's trading KPI: a risk kill first (icon and text), else the desired mode; the effective mode
 * is the gateway's to report (trading chain), so the note says which this is.
 */
function TradingKpi(props: { t: DashboardTrading; variety: string }) {
  const { t } = props;
  if (!t.ok) {
    return (
      <dd id="kpi-trading">
        —<span class="kpi-note">{t.why}</span>
      </dd>
    );
  }
  const link = `/v/${props.variety}/trading?profile=${encodeURIComponent(t.profile)}`;
  if (t.riskKillActive) {
    return (
      <dd id="kpi-trading" data-risk-kill="active">
        <span class="state state-error">
          <span aria-hidden="true">✖</span> Risk kill active
        </span>
        <span class="kpi-note">
          <a href={link}>{t.profile}</a>: {t.riskKillReason}
        </span>
      </dd>
    );
  }
  return (
    <dd id="kpi-trading">
      {t.desiredMode ?? '—'}
      <span class="kpi-note">
        {t.desiredMode === null ? 'no desired gateway for ' : 'desired for '}
        <a href={link}>{t.profile}</a>; gateway {t.componentStatus.replaceAll('_', ' ')} (the effective mode arrives
        with the trading chain)
      </span>
    </dd>
  );
}

export function DashboardPage(props: {
  ctx: ChromeContext;
  model: DashboardModel;
  canOperate: boolean;
  /** The main contract's live panel, or null without a market feed. */
  market: MarketJson | null;
}) {
  const { ctx, model, market } = props;
  const k = model.kpis;
  return (
    <Layout
      title={`Dashboard · ${ctx.variety.toUpperCase()}`}
      ctx={ctx}
      pageData={{ page: 'dashboard', can_operate: props.canOperate, ...marketPageData(market) }}
    >
      <h1>Dashboard · {ctx.variety.toUpperCase()}</h1>
      <section aria-labelledby="kpi-h" class="kpis" id="jobs-kpis">
        <h2 id="kpi-h" class="visually-hidden">
          Key figures
        </h2>
        <dl>
          <div>
            <dt>Running jobs</dt>
            <dd>{k.running}</dd>
          </div>
          <div>
            <dt>Queued jobs</dt>
            <dd>{k.queued}</dd>
          </div>
          <div>
            <dt>Last complete trading day</dt>
            <dd>{k.lastCompleteDay ?? '—'}</dd>
          </div>
          <div>
            <dt>Coverage</dt>
            <dd>
              {k.coveragePct === null ? '—' : `${k.coveragePct.toFixed(1)}%`}
              <span class="kpi-note">{k.coverageText}</span>
            </dd>
          </div>
          <div>
            <dt>Models</dt>
            <dd>
              —<span class="kpi-note">training arrives with the data chain II issue</span>
            </dd>
          </div>
          <div>
            <dt>Trading mode</dt>
            <TradingKpi t={model.trading} variety={ctx.variety} />
          </div>
          <div>
            <dt>Today's PnL</dt>
            <dd>
              —<span class="kpi-note">no account state yet (trading chain)</span>
            </dd>
          </div>
        </dl>
      </section>

      <section aria-labelledby="pipeline-h" class="panel">
        <h2 id="pipeline-h">Pipeline</h2>
        {model.dataOff ? <p class="muted">Data stages: {model.dataOff}.</p> : null}
        <ol class="pipeline" id="pipeline-strip" aria-label="Data pipeline stages, in order">
          {model.pipeline.map((s) => (
            <Stage s={s} variety={ctx.variety} />
          ))}
        </ol>
      </section>

      {market ? (
        <ChartSection m={market} heading={`Main contract ${market.main_contract ?? ''}: last, bid 1, ask 1`} />
      ) : (
        <section aria-labelledby="market-off-h" class="panel placeholder">
          <h2 id="market-off-h">Main contract price</h2>
          <p>The market feed is off in this process (ghtrader up --no-sim, or no market-data source).</p>
        </section>
      )}

      <section aria-labelledby="guard-h" class="panel">
        <h2 id="guard-h">Guardrails</h2>
        <table id="guardrails">
          <caption>
            Limits and gates in force for {ctx.variety.toUpperCase()}
            {model.config ? (
              <>
                {' '}
                at config revision {model.config.revision} (hash <code>{model.config.config_hash}</code>)
              </>
            ) : null}
          </caption>
          <thead>
            <tr>
              <th scope="col">Guardrail</th>
              <th scope="col">Value</th>
              <th scope="col">State</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {model.guardrails.map((g) => (
              <tr>
                <th scope="row">{g.label}</th>
                <td>{g.value}</td>
                <td>
                  <span class={`state state-${g.state}`}>
                    <span aria-hidden="true">{GUARD[g.state].icon}</span> {GUARD[g.state].text}
                  </span>
                </td>
                <td>
                  <code>{g.source}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          <a href={`/v/${ctx.variety}/config`}>Change limits on the Config page</a>
        </p>
      </section>

      <section aria-labelledby="slo-h" class="panel">
        <h2 id="slo-h">Service levels</h2>
        <SloSummary slo={model.slo.snapshot} error={model.slo.error} compact id="dashboard-slo" />
        <p>
          <a href={`/v/${ctx.variety}/system`}>
            Every finding, route latency and live-update counters on the System page
          </a>
        </p>
      </section>

      {props.canOperate && !model.dataOff ? <DataActions variety={ctx.variety} heading="Quick actions" /> : null}

      <section aria-labelledby="newest-h" class="panel">
        <h2 id="newest-h">Newest jobs</h2>
        <JobsTable items={model.newest.items} variety={ctx.variety} caption="The 20 newest jobs of every variety" />
      </section>
    </Layout>
  );
}

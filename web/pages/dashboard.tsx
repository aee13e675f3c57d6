/**
 * `/v/{var}/dashboard`: what exists today — job KPIs and the newest 20 jobs. The pipeline strip, price chart,
 * guardrails and SLO summary need the data and trading chains and are labelled as not built yet.
 */
import type { JobListResult } from '#shared/services/job-service.ts';
import { JobsTable } from './jobs.tsx';
import { type ChromeContext, Layout } from './layout.tsx';

export function DashboardPage(props: { ctx: ChromeContext; newest: JobListResult }) {
  const { ctx, newest } = props;
  return (
    <Layout title={`Dashboard · ${ctx.variety.toUpperCase()}`} ctx={ctx} pageData={{ page: 'dashboard' }}>
      <h1>Dashboard · {ctx.variety.toUpperCase()}</h1>
      <section aria-labelledby="kpi-h" class="kpis" id="jobs-kpis">
        <h2 id="kpi-h" class="visually-hidden">
          Key figures
        </h2>
        <dl>
          <div>
            <dt>Running jobs</dt>
            <dd>{newest.counts.running}</dd>
          </div>
          <div>
            <dt>Queued jobs</dt>
            <dd>{newest.counts.queued}</dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="newest-h" class="panel">
        <h2 id="newest-h">Newest jobs</h2>
        <JobsTable items={newest.items} variety={ctx.variety} caption="The 20 newest jobs of every variety" />
      </section>
      <section aria-labelledby="later-h" class="panel placeholder">
        <h2 id="later-h">
          <span aria-hidden="true">🚧</span> Not built yet
        </h2>
        <p>
          The pipeline strip (calendar → schedule → main_l5 → validate → features → labels → train), the main-contract
          price chart, guardrails, coverage and PnL figures arrive with the data-chain, trading-chain and observability
          issues. Nothing here is placeholder data.
        </p>
      </section>
    </Layout>
  );
}

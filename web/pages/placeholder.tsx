/** Workspaces that later issues build: an honest, clearly labelled placeholder, never fake data. */
import { type ChromeContext, Layout } from './layout.tsx';

export const PLANNED_WORKSPACES = {
  data: {
    title: 'Data',
    arrivesWith: 'issues 4 and 7 (data chain, console)',
    summary:
      'coverage calendar heat map, main schedule with segments and rolls, readiness states, last validation, gap days and data-kind forms',
  },
  models: {
    title: 'Models',
    arrivesWith: 'issue 5 (features, labels, baseline model)',
    summary: 'model inventory with provenance, metrics, walk-forward chart, train form and benchmarks',
  },
  config: {
    title: 'Config',
    arrivesWith: 'issue 7 (config service)',
    summary: 'effective values with their source, typed edit form, revision history, diff and rollback',
  },
} as const;
export type PlannedWorkspace = keyof typeof PLANNED_WORKSPACES;

export function PlaceholderPage(props: { ctx: ChromeContext; workspace: PlannedWorkspace }) {
  const w = PLANNED_WORKSPACES[props.workspace];
  return (
    <Layout title={`${w.title} · ${props.ctx.variety.toUpperCase()}`} ctx={props.ctx}>
      <h1>{w.title}</h1>
      <section class="placeholder" aria-labelledby="placeholder-h">
        <h2 id="placeholder-h">
          <span aria-hidden="true">🚧</span> Not built yet
        </h2>
        <p>
          This workspace arrives with {w.arrivesWith}. It will show {w.summary}.
        </p>
        <p>Nothing on this page is live data.</p>
      </section>
    </Layout>
  );
}

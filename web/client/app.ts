/**
 * The console's one client script (bundled by `build.mjs` to `dist/web/static/app.js`). Plain DOM, no
 * framework: actions go through `fetch` + JSON with the session's `x-csrf-token`; pages work without it for reading.
 */
import { api, describe, type PageData, readPageData, setCsrfToken, toast } from './api.ts';
import { initConfigPage } from './config.ts';
import { initDataActions, initDataPage } from './data.ts';
import { initExplorerPage } from './explorer.ts';
import { initJobDetail, initJobsPage, liveJobsList } from './jobs.ts';
import { type LiveTopic, startLive } from './live.ts';
import { initLogin } from './login.ts';
import { initMarketPanel } from './market.ts';
import { sortableRows } from './sortable.ts';
import { initSystemPage } from './system.ts';
import { initTradingPage } from './trading.ts';

function main(): void {
  const data = readPageData();
  setCsrfToken(data.csrf_token);
  if (data.page === 'login') {
    initLogin(data);
    return;
  }
  document.getElementById('logout')?.addEventListener('click', () => {
    api('POST', '/api/auth/logout', {})
      .then(() => window.location.assign('/login'))
      .catch((err: unknown) => toast(describe(err), 'error'));
  });
  // Topics this page follows live; every page's socket also carries `system.warm_path` for the badge.
  const topics: LiveTopic[] = [];
  if (data.page === 'dashboard') {
    topics.push(liveJobsList('jobs:all'), ...initMarketPanel(data));
    const d = data as PageData & { can_operate?: boolean };
    if (d.can_operate && d.variety && document.getElementById('data-actions-h')) initDataActions(d.variety);
  }
  if (data.page === 'jobs') topics.push(...initJobsPage(data));
  if (data.page === 'job') topics.push(...initJobDetail(data));
  if (data.page === 'system') initSystemPage();
  if (data.page === 'market') topics.push(...initMarketPanel(data));
  if (data.page === 'data') topics.push(...initDataPage(data));
  if (data.page === 'config') topics.push(...initConfigPage(data));
  if (data.page === 'explorer') initExplorerPage(data);
  if (data.page === 'audit') {
    const list = document.getElementById('audit-list');
    if (list) sortableRows(list);
  }
  if (data.page === 'trading') topics.push(...initTradingPage(data));
  startLive(topics, data.warm_path_degraded ?? false);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();

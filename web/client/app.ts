/**
 * The console's one client script (bundled by `build.mjs` to `dist/web/static/app.js`). Plain DOM, no
 * framework: actions go through `fetch` + JSON with the session's `x-csrf-token`; pages work without it for reading.
 */
import { api, describe, readPageData, setCsrfToken, toast } from './api.ts';
import { initConfigPage } from './config.ts';
import { initDataPage } from './data.ts';
import { initExplorerPage } from './explorer.ts';
import { initJobDetail, initJobsPage } from './jobs.ts';
import { initLogin } from './login.ts';
import { initMarketPage } from './market.ts';
import { startStatusPolling } from './status.ts';
import { initSystemPage } from './system.ts';

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
  startStatusPolling();
  if (data.page === 'jobs') initJobsPage(data);
  if (data.page === 'job') initJobDetail(data);
  if (data.page === 'system') initSystemPage();
  if (data.page === 'market') initMarketPage(data);
  if (data.page === 'data') initDataPage(data);
  if (data.page === 'config') initConfigPage(data);
  if (data.page === 'explorer') initExplorerPage(data);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();

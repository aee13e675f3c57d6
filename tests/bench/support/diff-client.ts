/**
 * A DIFF client for the market benches, pointed straight at a simulator: md URL and dev token set directly (no
 * discovery, no OIDC), silent logger, no frame log. The benches measure the real client, so nothing here is mocked.
 */
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { DiffClient } from '#shared/infra/diff/client.ts';
import { loadDiffConfig } from '#shared/infra/diff/config.ts';

export interface SimEndpoints {
  /** `http://127.0.0.1:<port>` (auth and files base). */
  url: string;
  mdUrl: string;
  token: string;
}

/** A `DiffClient` configured against the simulator at `sim`. */
export function benchClient(sim: SimEndpoints): DiffClient {
  const config = loadDiffConfig({
    GHTRADER_DIFF_AUTH_URL: sim.url,
    GHTRADER_DIFF_FILES_URL: sim.url,
    GHTRADER_DIFF_MD_URL: sim.mdUrl,
    GHTRADER_DIFF_TOKEN: sim.token,
    GHTRADER_DIFF_READY_TIMEOUT_S: '30',
  });
  return new DiffClient({ config, calendar: shippedCalendar() });
}

/**
 * The TickStore contract against a real QuestDB, when `GHTRADER_QUESTDB_HTTP` names one (e.g. http://127.0.0.1:9000).
 * It DROPS and recreates the v2 tables on that server between tests: point it at a throwaway instance only.
 * Without the variable the suite is reported as skipped (no QuestDB can be installed on the CI machines).
 */
import { it } from 'vitest';
import { openQuestDbTickStore } from '#shared/infra/tickstore/questdb.ts';
import { type ContractStore, tickStoreContract } from './contract.ts';
import { dropAllQuestDbTables, QUESTDB_HTTP } from './questdb-server.ts';

const URL_ENV = QUESTDB_HTTP;
const SKIP = 'QuestDB contract suite skipped: set GHTRADER_QUESTDB_HTTP=http://host:9000 to run it';

if (URL_ENV) {
  tickStoreContract('questdb', async () => {
    await dropAllQuestDbTables(URL_ENV);
    let failNext = false;
    const store = await openQuestDbTickStore({
      httpUrl: URL_ENV,
      env: process.env,
      // The suite is the only writer of this throwaway server, so it holds every writer lock.
      rewriteGuard: async () => async () => undefined,
      beforeIlpRequest: () => {
        if (failNext) {
          failNext = false;
          throw new Error('injected failure before the ILP request');
        }
      },
    });
    // Built as a variable: `settle` is optional in ContractStore and may not be declared there yet.
    const ctx = {
      store,
      failNextCommit: () => {
        failNext = true;
      },
      settle: (table: string) => store.waitForWal(table),
      cleanup: async () => {
        await store.close();
        await dropAllQuestDbTables(URL_ENV);
      },
    };
    const contract: ContractStore = ctx;
    return contract;
  });
} else {
  console.warn(SKIP);
  it.skipIf(true)(SKIP, () => undefined);
}

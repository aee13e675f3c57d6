import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { tickStoreContract } from './contract.ts';

tickStoreContract('duckdb', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-tickstore-'));
  let failNext = false;
  const store = await openDuckDbTickStore({
    path: path.join(dir, 'ticks.duckdb'),
    beforeCommit: () => {
      if (failNext) {
        failNext = false;
        throw new Error('injected failure before commit');
      }
    },
  });
  return {
    store,
    failNextCommit: () => {
      failNext = true;
    },
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

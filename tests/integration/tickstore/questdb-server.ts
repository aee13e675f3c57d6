/**
 * The real QuestDB the integration tests may use: `GHTRADER_QUESTDB_HTTP` (e.g. http://127.0.0.1:9000) names a
 * THROWAWAY server, whose v2 tables the tests drop and recreate. Unset, those tests are reported as skipped (no
 * QuestDB can be installed on the CI machines).
 */
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { QuestDbHttp } from '#shared/infra/tickstore/questdb-http.ts';

export const QUESTDB_HTTP = process.env.GHTRADER_QUESTDB_HTTP;

/** Drop every catalogue table and any staging table a rewrite left behind. */
export async function dropAllQuestDbTables(url: string): Promise<void> {
  const http = new QuestDbHttp({ baseUrl: url, retryMax: 1 });
  const names = new Set<string>(Object.values(TABLES).map((t) => t.name));
  const listed = await http.query('SELECT table_name FROM tables()');
  const col = listed.columns.find((c) => c.name === 'table_name');
  for (const v of col?.values ?? []) {
    if (typeof v === 'string' && v.includes('__keep_')) names.add(v);
  }
  for (const name of names) await http.exec(`DROP TABLE IF EXISTS ${name}`);
}

/**
 * DIFF JSON parsing throughput (market-protocol §1.5: ≥ 50 MB/s on one core) on a 2,000-row tick frame whose
 * nanosecond datetimes force the exact (BigInt-safe) path, compared with `JSON.parse` on the same text (which would
 * round them). Prints one JSON object.
 */
import { parseDiffJson, stringifyDiffJson } from '#shared/infra/diff/json.ts';
import { machine, summarize } from './stats.ts';

function tickFrame(rows: number): string {
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) {
    const dt = 1736380800000000000n + BigInt(i) * 500_000_000n + 1n;
    parts.push(
      `"${100000 + i}":{"datetime":${dt},"last_price":75230.0,"average":75211.53,"ask_price1":75240,"ask_volume1":12,` +
        `"bid_price1":75230,"bid_volume1":7,"volume":${1000 + i},"amount":${376150000 + i * 37615},"open_interest":180123}`,
    );
  }
  return `{"aid":"rtn_data","data":[{"ticks":{"SHFE.cu2502":{"last_id":200000,"data":{${parts.join(',')}}}}}]}`;
}

const text = tickFrame(2000);
const mb = Buffer.byteLength(text) / 1e6;
const ours: number[] = [];
const native: number[] = [];
const ser: number[] = [];
let value: unknown = null;
for (let i = 0; i < 60; i++) {
  const t0 = performance.now();
  value = parseDiffJson(text);
  const t1 = performance.now();
  JSON.parse(text);
  const t2 = performance.now();
  stringifyDiffJson(value);
  const t3 = performance.now();
  // The first runs warm up the JIT and are not part of the figures.
  if (i >= 10) {
    ours.push(mb / ((t1 - t0) / 1000));
    native.push(mb / ((t2 - t1) / 1000));
    ser.push(mb / ((t3 - t2) / 1000));
  }
}
const s = summarize(ours);
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'diff-json',
      machine: machine(),
      comparison: 'parseDiffJson (exact path) vs JSON.parse on the same 2,000-row tick frame; goal ≥ 50 MB/s',
      frame_bytes: Buffer.byteLength(text),
      parse_mb_per_s: s,
      json_parse_mb_per_s: summarize(native),
      stringify_mb_per_s: summarize(ser),
      goal_mb_per_s: 50,
      meets_goal: s.p50 >= 50,
    },
    null,
    2,
  )}\n`,
);

import { describe, expect, it } from 'vitest';
import {
  clampLogMaxBytes,
  formatJobLogLine,
  formatJobLogText,
  JOB_LOG_LINE_MAX_BYTES,
  jobLogAttemptPrefix,
  jobLogKey,
  nextJobLogSeq,
  parseJobLogKey,
  redactText,
  sanitizeLogValue,
  sortJobLogObjects,
  stripAnsi,
  tailOf,
} from '#shared/domain/control/job-log.ts';
import { REDACTED_KEYS } from '#shared/log.ts';
import { JobLogQuerySchema } from '#shared/services/job-log.ts';

const JOB = '01JABCDEFGHJKMNPQRSTVWXYZ0';
const TS = '2026-03-04T05:06:07.089Z';
const enc = new TextEncoder();

describe('stripAnsi', () => {
  it('removes colour, cursor and OSC sequences and control characters, keeping tabs and newlines', () => {
    expect(stripAnsi('\u001b[31mred\u001b[0m \u001b[1;32mbold green\u001b[m')).toBe('red bold green');
    expect(stripAnsi('a\u001b[2K\u001b[1Gb')).toBe('ab');
    expect(stripAnsi('\u001b]0;title\u0007text')).toBe('text');
    expect(stripAnsi('x\ry\u0000z\tw\nv')).toBe('xyz\tw\nv');
    expect(stripAnsi('plain 中文 text')).toBe('plain 中文 text');
  });
});

describe('redaction', () => {
  it('redacts every key shared/log.ts redacts, at any depth and in any case', () => {
    // Every shared key, redacted wherever it appears (the list itself is shared: shared/domain/redacted-keys.ts).
    for (const k of REDACTED_KEYS)
      expect(sanitizeLogValue({ a: { [k.toUpperCase()]: 'x' } })).toEqual({ a: { [k.toUpperCase()]: '[redacted]' } });
    const out = sanitizeLogValue({
      password: 'p1',
      nested: { deeper: { still: { Token: 't1', ok: 1 } } },
      list: [{ secret: 's1' }],
      client_secret: 'c1',
      user: 'alice',
    });
    expect(out).toEqual({
      password: '[redacted]',
      nested: { deeper: { still: { Token: '[redacted]', ok: 1 } } },
      list: [{ secret: '[redacted]' }],
      client_secret: '[redacted]',
      user: 'alice',
    });
  });

  it('redacts secrets written inline in text', () => {
    const token = `ght_abcdefghij_${'A'.repeat(43)}`;
    expect(redactText(`using ${token} now`)).toBe('using ght_[redacted] now');
    expect(redactText('Authorization: Bearer abc.def.ghi123')).not.toContain('abc.def');
    expect(redactText('password=hunter2 user=bob')).toBe('password=[redacted] user=bob');
    expect(redactText('GHTRADER_DIFF_PASSWORD=s3cret')).toBe('GHTRADER_DIFF_PASSWORD=[redacted]');
    expect(redactText('{"token": "xyz", "n": 1}')).toBe('{"token": [redacted], "n": 1}');
    expect(redactText('redis://user:pa55@host:6379/0')).toBe('redis://user:[redacted]@host:6379/0');
    expect(redactText('slept 3 of 5 s')).toBe('slept 3 of 5 s');
  });

  it('serialises errors, bigints, dates and cycles', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    const out = sanitizeLogValue({
      err: new Error('boom password=x'),
      n: 10n,
      d: new Date(Date.UTC(2026, 0, 2)),
      cyc,
    }) as Record<string, Record<string, unknown>>;
    expect(out.err?.type).toBe('Error');
    expect(out.err?.message).toBe('boom password=[redacted]');
    expect(out.n).toBe('10');
    expect(out.d).toBe('2026-01-02T00:00:00.000Z');
    expect(out.cyc).toEqual({ a: 1, self: '[circular]' });
  });
});

describe('formatJobLogLine', () => {
  it('puts ts, level, msg, job_id and attempt first; strips ANSI; redacts; ends with a newline', () => {
    const line = formatJobLogLine(
      JOB,
      2,
      { ts: TS, level: 'info', msg: '\u001b[32mstep\u001b[0m done', fields: { job_id: 'spoof', token: 'x', n: 3 } },
      TS,
    );
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    const o = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(o).slice(0, 5)).toEqual(['ts', 'level', 'msg', 'job_id', 'attempt']);
    expect(o).toEqual({ ts: TS, level: 'info', msg: 'step done', job_id: JOB, attempt: 2, token: '[redacted]', n: 3 });
  });

  it('normalises timestamps to UTC …Z and replaces an unparseable one', () => {
    const a = JSON.parse(
      formatJobLogLine(JOB, 1, { ts: '2026-03-04T13:06:07.089+08:00', level: 'warn', msg: 'm' }, TS),
    );
    expect(a.ts).toBe(TS);
    const b = JSON.parse(formatJobLogLine(JOB, 1, { ts: 'yesterday', level: 'warn', msg: 'm' }, TS));
    expect(b.ts).toBe(TS);
  });

  it('keeps a line within the size cap by leaving fields out and cutting the message', () => {
    const line = formatJobLogLine(
      JOB,
      1,
      { ts: TS, level: 'error', msg: 'x'.repeat(40_000), fields: { big: 'y'.repeat(40_000) } },
      TS,
    );
    expect(enc.encode(line).length).toBeLessThanOrEqual(JOB_LOG_LINE_MAX_BYTES);
    const o = JSON.parse(line) as Record<string, unknown>;
    expect(o.big).toBeUndefined();
    expect(o.fields_omitted_bytes).toBeGreaterThan(40_000);
    expect(o.msg_truncated).toBe(true);
  });
});

describe('object naming', () => {
  it('names objects jobs/<job_id>/attempt-<n>/<seq:06>.ndjson and parses them back', () => {
    expect(jobLogKey(JOB, 1, 0)).toBe(`jobs/${JOB}/attempt-1/000000.ndjson`);
    expect(jobLogKey(JOB, 12, 345)).toBe(`jobs/${JOB}/attempt-12/000345.ndjson`);
    expect(parseJobLogKey(`jobs/${JOB}/attempt-12/000345.ndjson`)).toEqual({
      key: `jobs/${JOB}/attempt-12/000345.ndjson`,
      jobId: JOB,
      attempt: 12,
      seq: 345,
    });
    expect(parseJobLogKey(`jobs/${JOB}/attempt-0/000000.ndjson`)).toBeNull();
    expect(parseJobLogKey(`jobs/${JOB}/attempt-1/1.ndjson`)).toBeNull();
    expect(parseJobLogKey(`reports/x/attempt-1/000000.ndjson`)).toBeNull();
    expect(() => jobLogKey(JOB, 0, 0)).toThrow(RangeError);
    expect(() => jobLogKey(JOB, 1, 1_000_000)).toThrow(RangeError);
    expect(jobLogAttemptPrefix(JOB, 3)).toBe(`jobs/${JOB}/attempt-3/`);
  });

  it('orders objects by attempt then sequence numerically, and continues after the highest sequence', () => {
    const keys = [
      jobLogKey(JOB, 10, 0),
      jobLogKey(JOB, 2, 1),
      jobLogKey(JOB, 2, 0),
      'jobs/other/attempt-1/000000.ndjson',
      `jobs/${JOB}/attempt-2/notes.txt`,
    ];
    expect(sortJobLogObjects(keys, JOB).map((o) => [o.attempt, o.seq])).toEqual([
      [2, 0],
      [2, 1],
      [10, 0],
    ]);
    expect(nextJobLogSeq([])).toBe(0);
    expect(nextJobLogSeq([jobLogKey(JOB, 1, 0), jobLogKey(JOB, 1, 7)])).toBe(8);
  });
});

describe('tail', () => {
  it('clamps max_bytes to [1024, 1 MiB]; a non-numeric query value is rejected', () => {
    expect(clampLogMaxBytes(1)).toBe(1024);
    expect(clampLogMaxBytes(0)).toBe(1024);
    expect(clampLogMaxBytes(5000)).toBe(5000);
    expect(clampLogMaxBytes(99_999_999)).toBe(1_048_576);
    expect(JobLogQuerySchema.parse({ max_bytes: '1' }).max_bytes).toBe(1024);
    expect(JobLogQuerySchema.parse({ max_bytes: '99999999' }).max_bytes).toBe(1_048_576);
    expect(JobLogQuerySchema.parse({}).max_bytes).toBe(64_000);
    expect(JobLogQuerySchema.safeParse({ max_bytes: 'abc' }).success).toBe(false);
    expect(JobLogQuerySchema.safeParse({ attempt: '0' }).success).toBe(false);
    expect(JobLogQuerySchema.parse({ attempt: '2' }).attempt).toBe(2);
  });

  const lines = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `line-${String(from + i).padStart(4, '0')}\n`).join('');

  it('returns everything when it fits, truncated only when older objects were not read', () => {
    const chunks = [enc.encode(lines(0, 3)), enc.encode(lines(3, 5))];
    expect(tailOf(chunks, 1024, false)).toEqual({ text: lines(0, 5), bytes: 50, truncated: false });
    expect(tailOf(chunks, 1024, true).truncated).toBe(true);
  });

  it('keeps the newest bytes up to max_bytes, starting at a line boundary', () => {
    const chunks = [enc.encode(lines(0, 100)), enc.encode(lines(100, 200))]; // 10 bytes per line
    const t = tailOf(chunks, 1024, false);
    expect(t.truncated).toBe(true);
    expect(t.bytes).toBeLessThanOrEqual(1024);
    expect(t.bytes).toBe(enc.encode(t.text).length);
    expect(t.text).toBe(lines(98, 200));
    // Exactly on a boundary: nothing of the first kept line is lost.
    expect(tailOf([enc.encode(lines(0, 200))], 1000, false).text).toBe(lines(100, 200));
  });

  it('cuts a single over-long line on a character boundary', () => {
    const long = `${'中'.repeat(1000)}\n`;
    const t = tailOf([enc.encode(long)], 1024, false);
    expect(t.bytes).toBeLessThanOrEqual(1024);
    expect(t.text.endsWith('\n')).toBe(true);
    expect(t.text).not.toContain('\uFFFD');
    expect(t.truncated).toBe(true);
  });
});

describe('formatJobLogText', () => {
  it('shows one readable line per NDJSON line and passes other text through', () => {
    const text = [
      formatJobLogLine(JOB, 1, { ts: TS, level: 'info', msg: 'slept 1 of 3 s', fields: { slept_s: 1 } }, TS),
      formatJobLogLine(JOB, 1, { ts: TS, level: 'error', msg: 'bad', fields: { detail: 'a b' } }, TS),
      'not json\n',
    ].join('');
    expect(formatJobLogText(text).split('\n')).toEqual([
      `${TS} INFO  slept 1 of 3 s slept_s=1`,
      `${TS} ERROR bad detail="a b"`,
      'not json',
    ]);
  });
});

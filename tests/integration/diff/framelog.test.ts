import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameLog, readFrameLog } from '#shared/infra/diff/framelog.ts';
import { tempFile } from './support.ts';

describe('frame log', () => {
  it('writes one JSON line per frame with the raw text byte-exact and the password masked', () => {
    // Prepare
    const path = tempFile('frames.jsonl');
    const log = new FrameLog(path);
    const tick =
      '{"aid":"rtn_data","data":[{"ticks":{"S":{"data":{"1":{"datetime":1568255607000000001,"last_price":NaN}}}}}]}';

    // Act
    log.write('md', 'recv', tick);
    log.write('td', 'send', '{"aid":"req_login","bid":"ghsim","user_name":"u","password":"secret"}');
    log.close();

    // Assess
    const lines = readFrameLog(path);
    expect(lines.map((l) => [l.sock, l.dir])).toEqual([
      ['md', 'recv'],
      ['td', 'send'],
    ]);
    expect(lines[0]?.raw).toBe(tick);
    expect(lines[0]?.ts).toMatch(/^\d{19}$/);
    expect(readFileSync(path, 'utf8')).not.toContain('secret');
  });

  it('rotates past its size bound and keeps a fixed number of files', () => {
    // Prepare
    const path = tempFile('rot.jsonl');
    const log = new FrameLog(path, { maxBytes: 300, keep: 3 });
    const frame = `{"aid":"rtn_data","data":[{"x":"${'y'.repeat(150)}"}]}`;

    // Act
    for (let i = 0; i < 10; i++) log.write('md', 'recv', frame);
    log.close();

    // Assess
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    expect(readFrameLog(path).length).toBeGreaterThan(0);
  });
});

/**
 * Adapter contract for every `ArtifactStore` (data-chain §0): the local directory runs it in `local.test.ts`, S3 (on
 * the embedded emulator) in `s3.test.ts`. Each test gets a fresh, empty store; only port methods are used.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactKeyError, type ArtifactStore, reportKey, writeReport } from '#shared/domain/data/artifacts.ts';

export interface ContractArtifactStore {
  store: ArtifactStore;
  cleanup(): Promise<void>;
}

const INVALID_KEYS = ['../x', 'a//b', 'a/./b', ''];

/** The bytes of a body as plain numbers, so a `Buffer` and a `Uint8Array` with the same bytes compare equal. */
function bytesOf(body: Uint8Array | null): number[] | null {
  return body === null ? null : Array.from(body);
}

export function artifactStoreContract(name: string, open: () => Promise<ContractArtifactStore>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let ctx: ContractArtifactStore;
    let store: ArtifactStore;

    beforeEach(async () => {
      ctx = await open();
      store = ctx.store;
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    it('reads back the exact UTF-8 bytes of a string body', async () => {
      // Prepare
      const body = '{"name":"铜 copper ✓"}\n';
      // Act
      await store.put('reports/x/a.json', body);
      const got = await store.get('reports/x/a.json');
      // Assess
      expect(got).toBeInstanceOf(Uint8Array);
      expect(bytesOf(got)).toEqual(Array.from(new TextEncoder().encode(body)));
    });

    it('reads back the exact bytes of a binary body, including 0 and 255', async () => {
      // Prepare
      const body = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
      // Act
      await store.put('models/cu/weights.bin', body);
      const got = await store.get('models/cu/weights.bin');
      // Assess
      expect(body).toContain(0);
      expect(body).toContain(255);
      expect(bytesOf(got)).toEqual(Array.from(body));
    });

    it('reads back an empty body as zero bytes, not as absent', async () => {
      // Act
      await store.put('empty.bin', '');
      const got = await store.get('empty.bin');
      // Assess
      expect(bytesOf(got)).toEqual([]);
    });

    it('returns null for a key that was never written', async () => {
      // Prepare
      await store.put('reports/x/present.json', '{}');
      // Act
      const got = await store.get('reports/x/absent.json');
      // Assess
      expect(got).toBeNull();
    });

    it('overwrites an existing key with the new body', async () => {
      // Prepare
      await store.put('calendar/overrides.json', '{"v":1}');
      // Act
      await store.put('calendar/overrides.json', '{"v":2,"longer":true}');
      const got = await store.get('calendar/overrides.json');
      // Assess
      expect(new TextDecoder().decode(got ?? new Uint8Array())).toBe('{"v":2,"longer":true}');
      expect(await store.list('calendar')).toEqual(['calendar/overrides.json']);
    });

    it('lists the sorted full keys below a prefix and nothing from a sibling prefix', async () => {
      // Prepare: written out of order, with a sibling `reports/ab` that shares the string prefix `reports/a`
      await store.put('reports/ab/z.json', '{}');
      await store.put('reports/a/sub/2.json', '{}');
      await store.put('reports/a/1.json', '{}');
      await store.put('calendar/overrides.json', '{}');
      // Act
      const underA = await store.list('reports/a');
      const underASlash = await store.list('reports/a/');
      const underReports = await store.list('reports');
      const underNothing = await store.list('reports/none');
      const underAFile = await store.list('reports/a/1.json');
      // Assess
      expect(underA).toEqual(['reports/a/1.json', 'reports/a/sub/2.json']);
      expect(underASlash).toEqual(underA);
      expect(underReports).toEqual(['reports/a/1.json', 'reports/a/sub/2.json', 'reports/ab/z.json']);
      expect(underNothing).toEqual([]);
      expect(underAFile).toEqual([]); // a key is not a folder: nothing lies below it
    });

    it("lists every key, sorted, for the prefix ''", async () => {
      // Prepare
      await store.put('reports/b/2.json', '{}');
      await store.put('calendar/overrides.json', '{}');
      await store.put('reports/a/1.json', '{}');
      // Act
      const all = await store.list('');
      // Assess
      expect(all).toEqual(['calendar/overrides.json', 'reports/a/1.json', 'reports/b/2.json']);
    });

    it('lists nothing in an empty store', async () => {
      // Act
      const all = await store.list('');
      // Assess
      expect(all).toEqual([]);
    });

    it.each(INVALID_KEYS)('refuses the invalid key %j on put, get and uri with ArtifactKeyError', async (key) => {
      // Act
      const put = store.put(key, '{}');
      const get = store.get(key);
      // Assess
      await expect(put).rejects.toBeInstanceOf(ArtifactKeyError);
      await expect(get).rejects.toBeInstanceOf(ArtifactKeyError);
      expect(() => store.uri(key)).toThrow(ArtifactKeyError);
      expect(await store.list('')).toEqual([]);
    });

    it('refuses a list prefix that escapes the store with ArtifactKeyError', async () => {
      // Act
      const listed = store.list('../x');
      // Assess
      await expect(listed).rejects.toBeInstanceOf(ArtifactKeyError);
    });

    it('returns from put the same URI as uri(key), ending with the key', async () => {
      // Prepare
      const key = 'reports/main_l5_validate/KQ.m@SHFE.cu_latest.json';
      // Act
      const putUri = await store.put(key, '{}');
      // Assess
      expect(putUri).toBe(store.uri(key));
      expect(store.uri(key).endsWith(`/${key}`)).toBe(true);
    });

    it('writeReport writes the timestamped and the _latest key with equal JSON', async () => {
      // Prepare
      const atMs = Date.UTC(2026, 10, 21, 8, 1, 2, 345);
      const report = { symbol: 'KQ.m@SHFE.cu', rows: 12n, ok: true };
      const stamped = reportKey('main_l5_validate', 'KQ.m@SHFE.cu', atMs, 'job-1');
      const latest = 'reports/main_l5_validate/KQ.m@SHFE.cu_latest.json';
      // Act
      const uri = await writeReport(store, 'main_l5_validate', 'KQ.m@SHFE.cu', atMs, 'job-1', report);
      // Assess
      expect(stamped).toBe('reports/main_l5_validate/KQ.m@SHFE.cu_20261121T080102345_job-1.json');
      expect(uri).toBe(store.uri(stamped));
      const decode = (b: Uint8Array | null) => JSON.parse(new TextDecoder().decode(b ?? new Uint8Array()));
      const stampedJson = decode(await store.get(stamped));
      expect(stampedJson).toEqual({ symbol: 'KQ.m@SHFE.cu', rows: '12', ok: true });
      expect(decode(await store.get(latest))).toEqual(stampedJson);
      expect(await store.list('reports/main_l5_validate')).toEqual([stamped, latest]);
    });
  });
}

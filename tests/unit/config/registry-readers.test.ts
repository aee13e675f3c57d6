/**
 * Control-chain pitfall 15 ("env names the code never read"): every managed key is either read by the code or marked
 * `unused` with why, and never both. A key is read when its name appears in the code of `shared colo web functions
 * cdk` outside the registry (comments removed), or, for the keys the validation policy builds from its prefix
 * (`K('STRICT_RATIO')` → `GHTRADER_L5_VALIDATE_STRICT_RATIO`), when the policy module names its suffix. So a key
 * that loses its last reader shows up here, and so does an `unused` marker left behind once a reader arrives.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_REGISTRY } from '#shared/domain/control/config-registry.ts';
import { POLICY_PREFIX } from '#shared/domain/data/validation/policy.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SOURCE_DIRS = ['shared', 'colo', 'web', 'functions', 'cdk'];
/** The registry's own files declare every key; they are not readers. */
const REGISTRY_FILES = new Set(
  ['config-registry.ts', 'config-registry-chains.ts', 'config-keys.ts'].map((f) =>
    path.join(ROOT, 'shared/domain/control', f),
  ),
);
/** Modules that build key names from a prefix and a quoted suffix. */
const PREFIX_READERS = [{ prefix: POLICY_PREFIX, file: 'shared/domain/data/validation/policy.ts' }];

/** Comments removed (block and line comments outside strings are close enough for key names). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'cdk.out') out.push(...(await sources(p)));
    } else if (/\.tsx?$/.test(e.name) && !REGISTRY_FILES.has(p)) out.push(p);
  }
  return out;
}

async function readKeys(): Promise<Set<string>> {
  const files = (await Promise.all(SOURCE_DIRS.map((d) => sources(path.join(ROOT, d))))).flat();
  const text = (await Promise.all(files.map(async (f) => code(await readFile(f, 'utf8'))))).join('\n');
  const read = new Set<string>();
  for (const key of CONFIG_REGISTRY.keys()) {
    if (new RegExp(`\\b${key}\\b`).test(text)) read.add(key);
  }
  for (const r of PREFIX_READERS) {
    const reader = code(await readFile(path.join(ROOT, r.file), 'utf8'));
    for (const key of CONFIG_REGISTRY.keys()) {
      if (key.startsWith(r.prefix) && reader.includes(`'${key.slice(r.prefix.length)}'`)) read.add(key);
    }
  }
  return read;
}

describe('managed keys and their readers', () => {
  it('every key without an `unused` reason is read by the code, and no key with one is', async () => {
    const read = await readKeys();
    const defs = [...CONFIG_REGISTRY.values()];
    const unreadWithoutReason = defs.filter((d) => !d.unused && !read.has(d.key)).map((d) => d.key);
    const readButMarked = defs.filter((d) => d.unused && read.has(d.key)).map((d) => d.key);
    expect.soft(unreadWithoutReason, 'registered, read by nothing: read it or give it an `unused` reason').toEqual([]);
    expect.soft(readButMarked, 'read by the code but still marked `unused`: remove the marker').toEqual([]);
  });

  it('finds the readers it is meant to find (a direct name, and a prefix-built name)', async () => {
    const read = await readKeys();
    expect(read.has('GHTRADER_MAIN_L5_MAX_CONCURRENCY')).toBe(true);
    expect(read.has('GHTRADER_L5_VALIDATE_STRICT_RATIO')).toBe(true);
    expect(read.has('GHTRADER_MAIN_L5_TOTAL_WORKERS')).toBe(false);
  });
});

/**
 * The built client assets (`app.js`, `app.css`, `favicon.svg`) from `AppDeps.staticDir`, read once and kept in memory (both are
 * small). Pages reference them as `/static/<name>?v=<hash>`; a request naming the current hash is cacheable forever,
 * anything else must revalidate. A missing file is 404 and is looked for again on the next request.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const STATIC_FILES = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
} as const;
export type StaticName = keyof typeof STATIC_FILES;

export interface StaticAsset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  version: string;
}

export class StaticAssets {
  private readonly cache = new Map<StaticName, StaticAsset>();

  constructor(private readonly dir: string | undefined) {}

  static isName(name: string): name is StaticName {
    return Object.hasOwn(STATIC_FILES, name);
  }

  async get(name: StaticName): Promise<StaticAsset | null> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    if (!this.dir) return null;
    let body: Buffer;
    try {
      body = await readFile(path.join(this.dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const asset = {
      body: new Uint8Array(body),
      contentType: STATIC_FILES[name],
      version: createHash('sha256').update(body).digest('hex').slice(0, 12),
    };
    this.cache.set(name, asset);
    return asset;
  }

  /** `/static/<name>?v=<hash>`, or the bare path while the file is absent. */
  async href(name: StaticName): Promise<string> {
    const asset = await this.get(name);
    return asset ? `/static/${name}?v=${asset.version}` : `/static/${name}`;
  }
}

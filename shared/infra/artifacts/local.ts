/** `ArtifactStore` on the local file system (`$GHTRADER_HOME/artifacts`); writes go to a temp file, then rename. */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ArtifactStore, assertArtifactKey } from '../../domain/data/artifacts.ts';

export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  private file(key: string): string {
    return path.join(this.root, ...assertArtifactKey(key).split('/'));
  }

  async put(key: string, body: string | Uint8Array): Promise<string> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, file);
    return this.uri(key);
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return await readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = prefix.replace(/\/+$/, '');
    const dir = base === '' ? this.root : this.file(base);
    let entries: string[];
    try {
      entries = (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
        .map((e) => path.relative(this.root, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
    } catch (err) {
      // Nothing below a prefix that does not exist, or that is a key (a file) rather than a folder, as in S3.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw err;
    }
    return entries.sort();
  }

  uri(key: string): string {
    return pathToFileURL(this.file(key)).href;
  }
}

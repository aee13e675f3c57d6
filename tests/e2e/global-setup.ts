/** e2e tests run the built `ghtrader` exactly as a user would: build once (if stale) before the suite. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  execFileSync(process.execPath, [path.join(root, 'build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
}

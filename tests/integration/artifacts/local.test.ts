/** The `ArtifactStore` contract on `LocalArtifactStore`, each test in a fresh temp directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { artifactStoreContract } from './contract.ts';

artifactStoreContract('local', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-artifacts-'));
  return {
    store: new LocalArtifactStore(dir),
    cleanup: async () => {
      await rm(dir, { recursive: true, force: true });
    },
  };
});

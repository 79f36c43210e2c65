/** jest globalTeardown: stops the dev server started by test/global-setup.ts and removes the shared bundle. */
import fs from 'node:fs';
import path from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const bundle = globalThis.__TEMPORAL_TEST_BUNDLE_FILE__;
  if (bundle) fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
  const server = globalThis.__TEMPORAL_TEST_DEV_SERVER__;
  globalThis.__TEMPORAL_TEST_DEV_SERVER__ = undefined;
  await server?.stop();
}

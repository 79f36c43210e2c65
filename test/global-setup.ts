/**
 * jest globalSetup: one in-memory, headless Temporal dev server for the whole run (address exported in
 * TEMPORAL_TEST_ADDRESS, inherited by the test workers), plus the Java time-skipping test server installed
 * once (wrapper path in TEMPORAL_TEST_SERVER_PATH), plus Chromium and openssl for the Web UI test
 * (test/ensure-browser-tools.sh: Debian's packages when running as root, otherwise one line saying what to
 * install; the Chromium path in CHROMIUM_PATH). All three run in parallel, before any test starts.
 *
 * The workflow bundle is built once too, into a temporary file (TEST_WORKFLOW_BUNDLE_FILE) that every test
 * file loads instead of bundling its own.
 *
 * If TEMPORAL_TEST_ADDRESS is already set, that server is used and none is started.
 */
import { freePort, startDevServer, type DevServerHandle } from '../temporal-dev/dev-server';
import { ensureTemporalCli, ensureTimeSkippingTestServer } from '../temporal-dev/ensure';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHARED_BUNDLE_ENV, TEST_ADDRESS_ENV, TEST_SERVER_PATH_ENV } from './helpers/temporal';
import { bundleWorkflows } from '../workers';
import { BROWSER_TOOLS_MISSING, ensureBrowserTools } from './helpers/chromium';

declare global {
  // Shared with test/global-teardown.ts (same context).

  var __TEMPORAL_TEST_DEV_SERVER__: DevServerHandle | undefined;

  var __TEMPORAL_TEST_BUNDLE_FILE__: string | undefined;
}

async function startSharedDevServer(): Promise<void> {
  if (process.env[TEST_ADDRESS_ENV]) return;
  const cliPath = await ensureTemporalCli();
  const server = await startDevServer({
    cliPath,
    port: await freePort(),
    headless: true,
    ip: '127.0.0.1',
    log: process.env.TEMPORAL_TEST_SERVER_LOG ? (line) => process.stderr.write(`[temporal] ${line}\n`) : undefined,
  });
  globalThis.__TEMPORAL_TEST_DEV_SERVER__ = server;
  process.env[TEST_ADDRESS_ENV] = server.address;
}

async function bundleOnce(): Promise<void> {
  // Always built here (never one named in the environment): the tests run the code of this tree.
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idv-test-bundle-')), 'workflows.js');
  fs.writeFileSync(file, (await bundleWorkflows()).code);
  process.env[SHARED_BUNDLE_ENV] = file;
  globalThis.__TEMPORAL_TEST_BUNDLE_FILE__ = file;
}

async function installTimeSkippingServer(): Promise<void> {
  if (process.env[TEST_SERVER_PATH_ENV]) return;
  process.env[TEST_SERVER_PATH_ENV] = await ensureTimeSkippingTestServer();
}

/**
 * Chromium and openssl: only test/web-ui-codec.test.ts needs them. When they cannot be had (not root),
 * the line saying what to install is printed now, and that test fails at once with it (BROWSER_TOOLS_MISSING)
 * instead of waiting; every other test runs.
 */
async function installBrowserTools(): Promise<void> {
  try {
    process.env.CHROMIUM_PATH = await ensureBrowserTools();
  } catch (err) {
    process.env[BROWSER_TOOLS_MISSING] = (err as Error).message;
  }
}

export default async function globalSetup(): Promise<void> {
  const results = await Promise.allSettled([
    startSharedDevServer(),
    installTimeSkippingServer(),
    installBrowserTools(),
    bundleOnce(),
  ]);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length) {
    await globalThis.__TEMPORAL_TEST_DEV_SERVER__?.stop();
    throw failures[0]!.reason;
  }
}

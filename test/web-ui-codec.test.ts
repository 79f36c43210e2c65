/**
 * The Temporal Web UI (dev server v1.5.1, UI v2.42) with our codec endpoint, in headless Chromium.
 *
 * The default development setup (`npm start`: the dev server's UI pointed at the API's http:// codec,
 * the API on loopback, APP_ENV=development) shows a workflow's input decoded and no "Codec Server could
 * not connect" banner: the codec decodes for the UI's origin without a token (CODEC_UI_WITHOUT_TOKEN).
 *
 * With a token required (as in production), configured with the endpoint and a valid token it shows the
 * input decoded; without the token it shows none of it (the codec answers 401, the UI shows the
 * ciphertext and its banner).
 *
 * How the UI gets a token (docs/web-ui.md): it sends `Authorization: Bearer
 * <access token>` only when "Pass the user access token" is on AND the endpoint is https://. The
 * token is the UI's logged-in user's, or what `globalThis.AccessToken()` answers when a page script
 * defines it; the dev server's UI has no login (it clears its stored user at every load), so the
 * operator sets the browser-level codec settings and defines AccessToken, as this test does.
 * The codec is served over HTTPS by the API (CODEC_TLS_*; a self-signed certificate here, which
 * Chromium is told to accept).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config';
import { buildApi } from '../client/app';
import { listenCodecTls } from '../client/codec';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { freePort, startDevServer, type DevServerHandle } from '../temporal-dev/dev-server';
import { ensureTemporalCli } from '../temporal-dev/ensure';
import { BROWSER_TOOLS_MISSING, launchChromium, type Browser } from './helpers/chromium';
import { testDataConverter } from './helpers/temporal';

const TOKEN = 'ui-operator-key-0123456789';
let server: DevServerHandle;
/** Token required (CODEC_UI_WITHOUT_TOKEN=false, as in production), also over HTTPS. */
let app: FastifyInstance;
/** The defaults of `npm start`: the one the dev server's UI is pointed at. */
let devApp: FastifyInstance;
let codecHttp: string;
let client: Client;
let connection: Connection;
let browser: Browser;
let dir: string;
let codecHttps: string;
const codecRequests: { status: number; url: string }[] = [];

beforeAll(async () => {
  // No Chromium or openssl, and the global setup could not install them (not root): say what to install.
  const missing = process.env[BROWSER_TOOLS_MISSING];
  if (missing) throw new Error(missing);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-webui-'));
  const [port, uiPort, apiPort, tlsPort, devApiPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  // The dev server's UI points at the API's codec endpoint, as `npm start` does.
  server = await startDevServer({
    cliPath: await ensureTemporalCli(),
    port,
    uiPort,
    ip: '127.0.0.1',
    extraArgs: ['--ui-codec-endpoint', `http://127.0.0.1:${devApiPort}/codec`],
  });
  const config = loadConfig({
    TEMPORAL_ADDRESS: server.address,
    API_PORT: String(apiPort),
    API_KEYS: `operator:${TOKEN}`,
    EVIDENCE_DIR: dir,
    AUDIT_DIR: path.join(dir, 'audit'),
    CODEC_UI_ORIGIN: server.uiUrl!,
    CODEC_TLS_CERT: path.join(dir, 'cert.pem'),
    CODEC_TLS_KEY: path.join(dir, 'key.pem'),
    CODEC_TLS_PORT: String(tlsPort),
    CODEC_UI_WITHOUT_TOKEN: 'false',
    LOG_LEVEL: 'info',
  });
  const devConfig = loadConfig({
    TEMPORAL_ADDRESS: server.address,
    API_PORT: String(devApiPort),
    EVIDENCE_DIR: dir,
    AUDIT_DIR: path.join(dir, 'audit'),
    CODEC_UI_ORIGIN: server.uiUrl!,
  });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, dataConverter: testDataConverter() });
  const logs = new Writable({
    write(chunk, _enc, done) {
      const line = JSON.parse(String(chunk)) as { res?: { statusCode: number }; req?: { url: string }; reqId: string };
      if (line.req?.url.startsWith('/codec/')) codecRequests.push({ status: 0, url: line.req.url });
      if (line.res) codecRequests.push({ status: line.res.statusCode, url: '' });
      done();
    },
  });
  app = await buildApi({ config, client, store: new FolderEvidenceStore(dir), logStream: logs });
  await app.listen({ host: '127.0.0.1', port: apiPort });
  await listenCodecTls(app, config);
  codecHttps = `https://127.0.0.1:${tlsPort}/codec`;
  codecHttp = `http://127.0.0.1:${apiPort}/codec`;
  devApp = await buildApi({ config: devConfig, client, store: new FolderEvidenceStore(dir), logger: false });
  await devApp.listen({ host: '127.0.0.1', port: devApiPort });
  browser = await launchChromium(['--ignore-certificate-errors', '--window-size=1280,1600']);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await devApp?.close();
  await connection?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A workflow whose input holds a marker; no worker needed: the UI shows the input of the started event. */
async function startWithMarker(): Promise<{ url: string; marker: string }> {
  const marker = `Decodedmarker${crypto.randomBytes(5).toString('hex')}`;
  const id = `namirial:webui-${crypto.randomBytes(4).toString('hex')}`;
  const handle = await client.workflow.start('namirialEnrollment', {
    workflowId: id,
    taskQueue: `webui-no-worker-${crypto.randomBytes(3).toString('hex')}`,
    args: [
      { id, reference: id.split(':')[1], applicant: { firstName: 'Giulia', lastName: marker, email: 'g@example.it' } },
    ],
  });
  return {
    url: `${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(id)}/${handle.firstExecutionRunId}/history`,
    marker,
  };
}

/** Polls the page's text until `until` holds, or answers the last text after `timeoutMs`. */
async function pageText(
  page: { evaluate<T>(e: string): Promise<T> },
  until: (text: string) => boolean,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await page.evaluate<string>('document.body ? document.body.innerText : ""').catch(() => '');
    if (until(text) || Date.now() >= deadline) return text;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const BANNER = 'Codec Server could not connect';

test('the default development setup (npm start) shows the decoded input and no codec banner', async () => {
  const { url, marker } = await startWithMarker();
  const page = await browser.open(url); // a fresh browser profile: no codec settings of its own, the server's only
  const text = await pageText(page, (t) => t.includes(marker));
  await page.screenshot(path.join(os.tmpdir(), 'webui-dev-default.png'));
  expect(text).toContain(marker);
  await new Promise((r) => setTimeout(r, 1_000)); // the banner shows after a failed decode: give it time
  expect(await pageText(page, () => true, 0)).not.toContain(BANNER);
});

test('with the codec endpoint and a valid token, the Web UI shows the decoded input', async () => {
  const { url, marker } = await startWithMarker();
  const page = await browser.open(`${server.uiUrl}/namespaces/default/workflows`);
  await pageText(page, (t) => t.length > 0);
  // The browser-level codec settings of the UI (its "Codec Server" dialog: endpoint, "Pass the user
  // access token", "Use my browser setting")...
  await page.evaluate(`(() => {
    localStorage.setItem('endpoint', JSON.stringify(${JSON.stringify(codecHttps)}));
    localStorage.setItem('passAccessToken', 'true');
    localStorage.setItem('includeCredentials', 'false');
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
    return true;
  })()`);
  // ...and the token: with no login (the dev server), the UI clears its stored user at every load, and
  // asks `globalThis.AccessToken()` when a page script defines it (here, as an operator's userscript would).
  await page.addInitScript(`globalThis.AccessToken = async () => ${JSON.stringify(TOKEN)};`);
  await page.goto(url);
  const text = await pageText(page, (t) => t.includes(marker));
  if (!text.includes(marker)) await page.screenshot(path.join(os.tmpdir(), 'webui-with-token.png'));
  expect(text).toContain(marker);
});

test('without the token, the UI gets 401 from the codec and shows none of the input', async () => {
  const { url, marker } = await startWithMarker();
  const before = codecRequests.filter((r) => r.status === 401).length;
  const page = await browser.open(`${server.uiUrl}/namespaces/default/workflows`);
  await pageText(page, (t) => t.length > 0);
  // The token-requiring API's http:// endpoint: the UI sends no token there.
  await page.evaluate(`(() => {
    localStorage.setItem('endpoint', JSON.stringify(${JSON.stringify(codecHttp)}));
    localStorage.setItem('passAccessToken', 'false');
    localStorage.setItem('includeCredentials', 'false');
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
    return true;
  })()`);
  await page.goto(url);
  // The page shows the workflow (and the encrypted payload's encoding), never the marker.
  const text = await pageText(
    page,
    (t) => t.includes('namirialEnrollment') && codecRequests.filter((r) => r.status === 401).length > before,
    30_000,
  );
  expect(text).toContain('namirialEnrollment');
  expect(codecRequests.filter((r) => r.status === 401).length).toBeGreaterThan(before);
  await new Promise((r) => setTimeout(r, 1_000)); // give a wrongly decoding UI time to show it
  const after = await pageText(page, (t) => t.includes(BANNER), 10_000);
  expect(after).not.toContain(marker);
  expect(after).toContain(BANNER); // what the development default avoids (first test)
});

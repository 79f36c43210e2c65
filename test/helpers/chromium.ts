/**
 * Headless Chromium (Debian's `chromium` package, /usr/bin/chromium) driven over the DevTools protocol
 * through a pipe (`--remote-debugging-pipe`: fd 3 in, fd 4 out, NUL-terminated JSON), with no client
 * library: open a page, evaluate JavaScript in it, take a screenshot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The binary: CHROMIUM_PATH, which the jest global setup sets from test/ensure-browser-tools.sh. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Set by the jest global setup to the line saying what to install, when Chromium or openssl is missing. */
export const BROWSER_TOOLS_MISSING = 'IDV_BROWSER_TOOLS_MISSING';

/**
 * Runs test/ensure-browser-tools.sh: answers Chromium's path, installing Chromium and openssl from Debian
 * when running as root; otherwise rejects with the script's one line saying what to install.
 */
export function ensureBrowserTools(): Promise<string> {
  const script = path.join(__dirname, '..', 'ensure-browser-tools.sh');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const found = out.trim().split('\n').pop()?.trim();
      if (code === 0 && found) resolve(found);
      // The script's last line says what to install: make it the error, so jest prints it once, first.
      else reject(new Error(err.trim().split('\n').pop() || `ensure-browser-tools.sh failed (exit code ${code})`));
    });
  });
}

export interface Browser {
  /** Opens a page (a new target) at `url`. */
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

export interface Page {
  goto(url: string): Promise<void>;
  /** Evaluates an expression in the page (awaiting a promise) and answers its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  screenshot(file: string): Promise<void>;
  /** Runs `source` in every document this page loads, before the page's own scripts. */
  addInitScript(source: string): Promise<void>;
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-chromium-'));
  const child: ChildProcess = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      ...extraArgs,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let buffer = '';
  output.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let end: number;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      buffer = buffer.slice(end + 1);
      const p = message.id !== undefined ? pending.get(message.id) : undefined;
      if (!p) continue;
      pending.delete(message.id!);
      if (message.error) p.reject(new Error(message.error.message));
      else p.resolve(message.result);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`Chromium exited: ${stderr.join('').slice(-500)}`));
    pending.clear();
  });

  const send = <T = any>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });

  await send('Browser.getVersion');

  return {
    async open(url) {
      const { targetId } = await send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      await send('Page.enable', {}, sessionId);
      await send('Runtime.enable', {}, sessionId);
      const page: Page = {
        async goto(to) {
          await send('Page.navigate', { url: to }, sessionId);
        },
        async evaluate<T>(expression: string) {
          const r = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
            'Runtime.evaluate',
            { expression, awaitPromise: true, returnByValue: true },
            sessionId,
          );
          if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.text}`);
          return r.result.value;
        },
        async addInitScript(source) {
          await send('Page.addScriptToEvaluateOnNewDocument', { source }, sessionId);
        },
        async screenshot(file) {
          const { data } = await send<{ data: string }>('Page.captureScreenshot', { format: 'png' }, sessionId);
          fs.writeFileSync(file, Buffer.from(data, 'base64'));
        },
      };
      await page.goto(url);
      return page;
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

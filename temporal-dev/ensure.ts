/**
 * Node wrappers around temporal-dev/ensure-cli.sh and temporal-dev/ensure-test-server.sh.
 * Both scripts print only a path on stdout; their progress goes to our stderr.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The project root: the nearest ancestor of this file holding temporal-dev/ensure-cli.sh. Works from the sources
 * (ts-node, ts-jest) and from the compiled dist/temporal-dev/*.js alike (tsc does not copy the .sh files).
 */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'temporal-dev', 'ensure-cli.sh'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`temporal-dev/ensure-cli.sh not found above ${__dirname}`);
    dir = parent;
  }
}

export function temporalDevDir(): string {
  return path.join(projectRoot(), 'temporal-dev');
}

function runPathScript(script: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    // 'close', not 'exit': only then has all of stdout been read.
    child.once('close', (code, signal) => {
      const result = out.trim().split('\n').pop()?.trim() ?? '';
      if (code === 0 && result) resolve(result);
      else
        reject(new Error(`${path.basename(script)} failed (${signal ?? `exit code ${code}`}); see its stderr above`));
    });
  });
}

/** Absolute path of a usable `temporal` CLI (may build it with Go on first use: a few minutes). */
export function ensureTemporalCli(): Promise<string> {
  return runPathScript(path.join(temporalDevDir(), 'ensure-cli.sh'));
}

/** Absolute path of the Java time-skipping test server wrapper (installs it with Maven on first use). */
export function ensureTimeSkippingTestServer(): Promise<string> {
  return runPathScript(path.join(temporalDevDir(), 'ensure-test-server.sh'));
}

/** Absolute path of moto's `moto_server` (S3-compatible test server; installs it with pip into a venv on first use). */
export function ensureS3TestServer(): Promise<string> {
  return runPathScript(path.join(temporalDevDir(), 'ensure-s3-test-server.sh'));
}

/** Directory holding the Temporal server (`server`), its schema tool (`sql`) and schema (builds them with Go on first use). */
export function ensureTemporalServer(): Promise<string> {
  return runPathScript(path.join(temporalDevDir(), 'ensure-server.sh'));
}

/** Directory of PostgreSQL's server binaries (installs PostgreSQL 15 with apt-get where missing and allowed). */
export function ensurePostgres(): Promise<string> {
  return runPathScript(path.join(temporalDevDir(), 'ensure-postgres.sh'));
}

/** Directory holding the Temporal Web UI server (`server`; builds it with Go on first use). */
export function ensureTemporalUiServer(): Promise<string> {
  return runPathScript(path.join(temporalDevDir(), 'ensure-ui-server.sh'));
}

/**
 * A PostgreSQL cluster of our own: initdb into a folder (once), then the `postgres` server as a child process
 * on a loopback port, trust authentication for one role. Used by the tests (a throw-away cluster in a temp dir)
 * and by `npm run stack:production` (a cluster in the git-ignored data folder).
 *
 * PostgreSQL refuses to run as root: when we are root, initdb and postgres run as the `postgres` system user
 * (Debian's packages create it; PG_OS_USER names another) and the data folder is handed to that user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensurePostgres } from './ensure';

export interface PostgresHandle {
  port: number;
  user: string;
  pid: number;
  url(database: string): string;
  /** Fast shutdown (SIGINT: active sessions are rolled back), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  user?: string;
  log?: (line: string) => void;
}

function osUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const name = process.env.PG_OS_USER ?? 'postgres';
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startPostgres({ dataDir, port, user = 'app', log }: PostgresOptions): Promise<PostgresHandle> {
  const bin = await ensurePostgres();
  const as = osUser();
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (as) {
    fs.chownSync(dataDir, as.uid, as.gid);
    // The parents must be traversable by that user (mkdtemp makes 0700 folders).
    for (let d = path.dirname(dataDir); d !== path.dirname(d); d = path.dirname(d)) {
      const st = fs.statSync(d);
      if ((st.mode & 0o001) === 0) fs.chmodSync(d, st.mode | 0o001);
    }
  }
  const ids = as ? { uid: as.uid, gid: as.gid } : {};
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    execFileSync(
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', user, '-E', 'UTF8', '--no-instructions'],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: dataDir, ...ids },
    );
  }
  const child: ChildProcess = spawn(
    path.join(bin, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      '-k',
      dataDir,
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=32MB',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir, ...ids },
  );
  let tail = '';
  const onData = (c: Buffer) => {
    const text = c.toString();
    tail = (tail + text).slice(-4000);
    if (log) for (const l of text.split('\n')) if (l.trim()) log(l);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${tail}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`postgres did not listen on ${port} within 30 s: ${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Accepting TCP is not yet accepting sessions ("the database system is starting up"): wait for pg_isready.
  for (;;) {
    try {
      execFileSync(
        path.join(bin, 'pg_isready'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres'],
        { stdio: 'ignore' },
      );
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`postgres on ${port} is not ready: ${tail}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    user,
    pid: child.pid!,
    url: (database) => `postgres://${user}@127.0.0.1:${port}/${database}`,
    stop: (graceMs = 8000) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGINT');
      }),
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The bench's child processes: each one ours (pid kept), stopped by pid in reverse order, killed if the
 * bench itself exits first. Output goes to a log file per process (shown when a process fails).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildMessage, ParentMessage } from './ipc';

export interface Proc {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  /** Sends an IPC message and waits for the first answer of that type (IPC children only). */
  ask(m: ParentMessage, timeoutMs?: number): Promise<ChildMessage>;
  stop(): Promise<void>;
}

const started: Proc[] = [];
process.once('exit', () => {
  for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

/**
 * Runs a TypeScript entry point under ts-node (as `npm run worker|api|sandboxes` do), or with `compiled`
 * its build from `npm run build` (dist/<script>.js, as in production).
 */
export function spawnTs(opts: {
  name: string;
  script: string;
  root: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  ipc?: boolean;
  nodeArgs?: string[];
  compiled?: boolean;
}): Proc {
  const logFile = path.join(opts.logDir, `${opts.name}.log`);
  const fd = fs.openSync(logFile, 'a');
  const entry = opts.compiled
    ? ['dist/' + opts.script.replace(/\.ts$/, '.js')]
    : ['-r', 'ts-node/register/transpile-only', opts.script];
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...entry], {
    cwd: opts.root,
    env: opts.env,
    stdio: ['ignore', fd, fd, ...(opts.ipc ? (['ipc'] as const) : [])],
  });
  fs.closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: Proc = {
    name: opts.name,
    pid: child.pid!,
    logFile,
    child,
    ask(m, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', on);
          reject(new Error(`${opts.name}: no answer to ${m.type} within ${timeoutMs} ms`));
        }, timeoutMs);
        const on = (a: ChildMessage) => {
          if (a.type !== m.type) return;
          clearTimeout(timer);
          child.off('message', on);
          resolve(a);
        };
        child.on('message', on);
        child.send(m);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (opts.ipc && child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      else child.kill('SIGTERM');
      const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
      if ((await Promise.race([exited, grace])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  started.push(proc);
  return proc;
}

/** Resolves on the child's `ready` IPC message; rejects if it exits or fails first. */
export function ready(p: Proc, timeoutMs = 180_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${p.name} not ready within ${timeoutMs / 1000} s${tail(p)}`)),
      timeoutMs,
    );
    p.child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve();
      }
      if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${p.name} failed: ${m.message}${tail(p)}`));
      }
    });
    p.child.once(
      'exit',
      (code) => (clearTimeout(timer), reject(new Error(`${p.name} exited (code ${code})${tail(p)}`))),
    );
  });
}

/** Resolves once `url` answers 2xx (a process that listens). */
export async function httpReady(p: Proc, url: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited (code ${p.child.exitCode})${tail(p)}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${p.name} did not answer ${url} within ${timeoutMs / 1000} s${tail(p)}`);
}

export function tail(p: Proc, lines = 20): string {
  try {
    const text = fs.readFileSync(p.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
    return text ? `\n--- ${p.logFile} ---\n${text}` : '';
  } catch {
    return '';
  }
}

/** Resident memory of any process of ours, from /proc (Linux), in MB; null elsewhere. */
export function rssMbOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

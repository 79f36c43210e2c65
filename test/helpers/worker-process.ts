/** A worker in a process of its own, with a stack's config (tests that kill it with SIGKILL). */
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { API_KEY, type Stack } from './stack';

/**
 * Starts test/helpers/worker-child.ts (the production createWorkers) on `stack`'s config against the
 * Temporal server at `address`, with the workflow bundle written at `bundlePath`; resolves once it polls.
 */
export function startWorkerProcess(
  stack: Stack,
  address: string,
  bundlePath: string,
  extraEnv: Record<string, string> = {},
): Promise<ChildProcess> & { child: ChildProcess } {
  const env = {
    TEMPORAL_ADDRESS: address,
    API_PORT: new URL(stack.apiUrl).port,
    API_KEYS: `tests:${API_KEY}`,
    SANDBOX_PORT: new URL(stack.sandboxUrl).port,
    EVIDENCE_DIR: stack.config.evidenceDir,
    TASK_QUEUE_PREFIX: stack.config.taskQueuePrefix,
    LOG_LEVEL: 'warn',
  };
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'worker-child.ts')],
    {
      env: { ...process.env, ...extraEnv, CHILD_ENV: JSON.stringify(env), CHILD_BUNDLE: bundlePath },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const started = new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker child did not start in 60 s')), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once(
      'exit',
      (code, signal) => signal !== 'SIGKILL' && reject(new Error(`worker child exited (${code ?? signal})`)),
    );
  });
  return Object.assign(started, { child });
}

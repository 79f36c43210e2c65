/** p5: `npm test` wall time on this machine (type-check + every jest test), bounded to 20 minutes. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { round } from '../load';

export interface P5Result {
  testSeconds: number;
  passed: boolean;
  log: string;
}

export function p5(root: string, logDir: string): Promise<P5Result> {
  const log = path.join(logDir, 'npm-test.log');
  const fd = fs.openSync(log, 'w');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['test'], { cwd: root, stdio: ['ignore', fd, fd], env: withoutTestAddress() });
    fs.closeSync(fd);
    const cap = setTimeout(() => child.kill('SIGTERM'), 20 * 60_000);
    child.once('exit', (code) => {
      clearTimeout(cap);
      resolve({ testSeconds: round((Date.now() - started) / 1000, 1), passed: code === 0, log });
    });
  });
}

/** The tests start their own server unless told otherwise: never point them at the bench's. */
function withoutTestAddress(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TEMPORAL_TEST_ADDRESS;
  return env;
}

/**
 * The sandboxes' state on disk, so that restarting `npm start` does not wipe the vendor cases that
 * Temporal's history (persistent) still waits for. Every Map a vendor sandbox holds (onboardings, cases,
 * signatures, sessions, enrollments, tokens) is written to one JSON file in the git-ignored data folder
 * on stop and every few seconds, and read back on start.
 *
 * Not kept: running timers (a Finwave session's timeout, an ID360 enrollment's processing delay) and
 * webhook deliveries in flight; a restored case waits for its next step from the control surface.
 * The file holds the sandboxes' fake applicants' data: mode 0600, in data/ (git-ignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxServer } from './server';

const VENDORS = ['finwave', 'fourthline', 'authenteq', 'namirial', 'id360'] as const;

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value && typeof value === 'object') {
    if (value.constructor?.name === 'Timeout') return undefined; // timers are not state
    if (value instanceof Map) return { $map: [...value.entries()] };
    if (value instanceof Set) return { $set: [...value.values()] };
  }
  // Buffer's toJSON has already run: { type: 'Buffer', data: [...] }
  if (
    value &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return { $buffer: Buffer.from((value as { data: number[] }).data).toString('base64') };
  }
  return value;
}

function reviver(key: string, value: unknown): unknown {
  if (value && typeof value === 'object') {
    const v = value as { $map?: [unknown, unknown][]; $set?: unknown[]; $buffer?: string };
    if (v.$map) return new Map(v.$map);
    if (v.$set) return new Set(v.$set);
    if (typeof v.$buffer === 'string') return Buffer.from(v.$buffer, 'base64');
    if (key === 'timers' && Array.isArray(value)) return value.filter((t) => t !== null);
  }
  return value;
}

/** Every Map field of each vendor sandbox. */
export function snapshotSandboxes(server: SandboxServer): string {
  const state: Record<string, Record<string, unknown>> = {};
  for (const vendor of VENDORS) {
    const sandbox = server[vendor] as unknown as Record<string, unknown>;
    state[vendor] = Object.fromEntries(Object.entries(sandbox).filter(([, v]) => v instanceof Map));
  }
  return JSON.stringify({ version: 1, savedAt: new Date().toISOString(), state }, replacer);
}

export function restoreSandboxes(server: SandboxServer, json: string): number {
  const parsed = JSON.parse(json, reviver) as {
    version: number;
    state: Record<string, Record<string, Map<unknown, unknown>>>;
  };
  if (parsed.version !== 1) return 0;
  let restored = 0;
  for (const vendor of VENDORS) {
    const sandbox = server[vendor] as unknown as Record<string, unknown>;
    for (const [field, saved] of Object.entries(parsed.state[vendor] ?? {})) {
      const live = sandbox[field];
      if (!(live instanceof Map) || !(saved instanceof Map)) continue;
      for (const [k, v] of saved) {
        if (v && typeof v === 'object' && 'timers' in v && !Array.isArray(v.timers))
          (v as { timers: unknown[] }).timers = [];
        live.set(k, v);
        restored++;
      }
    }
  }
  return restored;
}

/** Restores from `file` if present, then saves every `intervalMs` and on `stop()`. */
export function persistSandboxes(
  server: SandboxServer,
  file: string,
  intervalMs = 5000,
): { restored: number; save(): void; stop(): void } {
  let restored = 0;
  try {
    restored = restoreSandboxes(server, fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      process.stderr.write(
        `${JSON.stringify({ level: 'warn', msg: 'sandbox state not restored', reason: (err as Error).message })}\n`,
      );
  }
  const save = () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, snapshotSandboxes(server), { mode: 0o600 });
    fs.renameSync(tmp, file);
  };
  const timer = setInterval(() => {
    try {
      save();
    } catch {
      // the next tick or the stop retries
    }
  }, intervalMs).unref();
  return {
    restored,
    save,
    stop() {
      clearInterval(timer);
      save();
    },
  };
}

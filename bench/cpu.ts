/**
 * Where the machine's CPU went during a phase: each process's user + system time from /proc (all its
 * threads: the worker's workflow thread, the Temporal server's goroutines), as a share of the phase's
 * wall time. On a 2-core machine "busy" near 200% says the cores, not a wait, bound the phase; the
 * shares say whose work filled them. Linux only; elsewhere the figures are null.
 */
import fs from 'node:fs';
import os from 'node:os';

const TICKS_PER_SECOND = 100; // CLK_TCK on Linux (`getconf CLK_TCK`)

/** CPU seconds (user + system) of a process so far, or null (not Linux, or gone). */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, in parentheses): utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export interface CpuProfile {
  wallSeconds: number;
  /** Per process: its share of one core over the phase, in percent (200 = both cores of a 2-core machine). */
  percentOfOneCore: Record<string, number | null>;
  /** Sum of the shares (the load generator included): near 100 × cores means the CPU bounds the phase. */
  totalPercent: number;
}

/** Starts measuring the given processes (`bench` = this process: the load generator). */
export function cpuMeter(pids: Record<string, number>): { stop(): CpuProfile } {
  const t0 = Date.now();
  const self0 = process.cpuUsage();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  return {
    stop() {
      const wall = (Date.now() - t0) / 1000;
      const self = process.cpuUsage(self0);
      const pct = (seconds: number | null) =>
        seconds === null || wall <= 0 ? null : Math.round((seconds / wall) * 100);
      const percentOfOneCore: Record<string, number | null> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const b = before[name];
        const a = cpuSecondsOf(pid);
        percentOfOneCore[name] = pct(a === null || b === null || b === undefined ? null : a - b);
      }
      percentOfOneCore.bench = pct((self.user + self.system) / 1e6);
      const totalPercent = Object.values(percentOfOneCore).reduce<number>((s, v) => s + (v ?? 0), 0);
      return { wallSeconds: Math.round(wall * 10) / 10, percentOfOneCore, totalPercent };
    },
  };
}

/** One line for the log: `busy 188% of 200: temporal 80, worker 55, api 30, …` */
export function describeCpu(p: CpuProfile, cores: number): string {
  const parts = Object.entries(p.percentOfOneCore)
    .filter(([, v]) => v !== null && v > 0)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, v]) => `${k} ${v}`);
  return `CPU ${p.totalPercent}% of ${cores * 100}% over ${p.wallSeconds} s: ${parts.join(', ')}`;
}

/** Runs one load phase under the meter; logs and returns where the CPU went. */
export async function withCpu<T>(
  ctx: { pids: Record<string, number>; log(line: string): void },
  label: string,
  run: () => Promise<T>,
): Promise<{ result: T; cpu: CpuProfile }> {
  const meter = cpuMeter(ctx.pids);
  const result = await run();
  const cpu = meter.stop();
  ctx.log(`${label}: ${describeCpu(cpu, os.availableParallelism())}`);
  return { result, cpu };
}

/**
 * Waits until the processes are quiet (all of them together under `quietPercent` of one core over a
 * 3 s window), at least `minSeconds` and at most `maxSeconds`: a backlog of workflow tasks left by a
 * load phase must not land in the next phase's figures. Returns the seconds waited.
 */
export async function settle(
  pids: Record<string, number>,
  o: { minSeconds: number; maxSeconds: number; quietPercent?: number },
): Promise<number> {
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, o.minSeconds * 1000));
  while ((Date.now() - t0) / 1000 < o.maxSeconds) {
    const meter = cpuMeter(pids);
    await new Promise((r) => setTimeout(r, 3_000));
    if (meter.stop().totalPercent < (o.quietPercent ?? 25)) break;
  }
  return Math.round((Date.now() - t0) / 1000);
}

/** HTTP load with autocannon (bounded in count and time) and the small statistics the bench needs. */
import autocannon from 'autocannon';

export interface LoadResult {
  /** Requests answered 2xx. */
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** 2xx per second over the run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Stop after this many requests… */
  amount?: number;
  /** …or after this many seconds, whichever comes first. */
  maxSeconds: number;
  /** Offered load (requests per second over all connections); unset: as fast as answered. */
  overallRate?: number;
  method?: 'GET' | 'POST';
  /** Each request's path and body, by its sequence number. */
  next: (i: number) => { path: string; body?: unknown };
  headers?: Record<string, string>;
}

export async function load(o: LoadOptions): Promise<LoadResult> {
  let i = 0;
  const started = Date.now();
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.maxSeconds }),
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    timeout: 30,
    requests: [
      {
        method: o.method ?? 'POST',
        setupRequest: (req) => {
          const n = o.next(i++);
          return {
            ...req,
            path: n.path,
            headers: { ...o.headers, ...(n.body !== undefined ? { 'content-type': 'application/json' } : {}) },
            body: n.body !== undefined ? JSON.stringify(n.body) : undefined,
          };
        },
      },
    ],
  });
  // autocannon ignores the duration when an amount is set: the time bound is ours.
  const cap = setTimeout(() => (instance as unknown as { stop(): void }).stop(), o.maxSeconds * 1000 + 1000);
  const r = await instance;
  clearTimeout(cap);
  const seconds = (Date.now() - started) / 1000;
  return {
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    seconds: round(seconds, 1),
    rps: round(r['2xx'] / seconds, 1),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
  };
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Runs `task(i)` for i < count with at most `concurrency` at once, stopping new ones after `maxMs`. */
export async function pool(
  count: number,
  concurrency: number,
  maxMs: number,
  task: (i: number) => Promise<void>,
): Promise<{ done: number; failed: number; seconds: number; firstError?: string }> {
  const started = Date.now();
  let next = 0;
  let done = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (next < count && Date.now() - started < maxMs) {
      const i = next++;
      try {
        await task(i);
        done++;
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { done, failed, seconds: (Date.now() - started) / 1000, firstError };
}

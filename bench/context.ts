/** What every scenario gets: the URLs of what the bench started, HTTP helpers, the counts of the mode. */
import type { Client } from '@temporalio/client';
import type { Proc } from './processes';

export interface Counts {
  p1: { targets: number; connections: number; seconds: number };
  p2: { flows: number; concurrency: number; maxSeconds: number };
  /** settleSeconds: at most this long for the machine to be quiet after a ramp (bench/cpu.ts settle). */
  p3: {
    parked: number;
    createConnections: number;
    getConnections: number;
    getSeconds: number;
    settleSeconds: number;
    maxSeconds: number;
    oursOnly?: boolean;
  };
}

export const QUICK: Counts = {
  p1: { targets: 10, connections: 8, seconds: 5 },
  p2: { flows: 4, concurrency: 2, maxSeconds: 90 },
  p3: { parked: 300, createConnections: 32, getConnections: 8, getSeconds: 5, settleSeconds: 120, maxSeconds: 120 },
};

export const FULL: Counts = {
  p1: { targets: 50, connections: 16, seconds: 20 },
  // Enough flows at once that the machine, not the vendors' think times, bounds the throughput.
  p2: { flows: 48, concurrency: 16, maxSeconds: 300 },
  p3: {
    parked: 10_000,
    createConnections: 32,
    getConnections: 8,
    getSeconds: 30,
    settleSeconds: 600,
    maxSeconds: 1_800,
  },
};

export interface Http {
  (method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export interface BenchContext {
  counts: Counts;
  runId: string;
  apiUrl: string;
  apiKey: string;
  sandboxUrl: string;
  skeletonUrl: string;
  /** Our API as the integrator's backend calls it (bearer key). */
  api: Http;
  /** The skeleton's bare API. */
  skeleton: Http;
  /** The sandboxes' control surface. */
  sandbox: Http;
  /** A plain client on the same server (histories, for the shape of our flows). */
  client: Client;
  ourWorker: Proc;
  skeletonWorker: Proc;
  temporalPid: number;
  /** Every process the bench started, by name (temporal, sandboxes, worker, api, skeleton-worker, skeleton-api): for bench/cpu.ts. */
  pids: Record<string, number>;
  log(line: string): void;
}

export function http(base: string, headers: Record<string, string> = {}): Http {
  return async (method, urlPath, body) => {
    const res = await fetch(`${base}${urlPath}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` every 100 ms until `until` holds, for at most `timeoutMs`. */
export async function poll<T>(
  read: () => Promise<T>,
  until: (t: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (until(last)) return last;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 300)}`);
}

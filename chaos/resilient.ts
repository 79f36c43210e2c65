/**
 * How the chaos suite's scripted users and integrator backend talk to the API while it kills the worker
 * and restarts Temporal: a fetch that retries what a well-behaved client retries (a 503 with
 * Retry-After, a dropped connection, a create answered 202 "starting"), and records every 5xx the API
 * answered, with when it was asked and answered, so the suite can tell the ones during an outage from
 * the ones while Temporal and a worker were up.
 */
export interface ServerError {
  path: string;
  method: string;
  status: number;
  code: string | null;
  startedAt: number;
  endedAt: number;
}

export interface ResilientFetch {
  fetch: typeof fetch;
  errors: ServerError[];
  /** Dropped connections / timeouts seen (not answers). */
  networkErrors: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `apiBase`: answers from there are recorded; `giveUpMs`: how long one request may be retried. */
export function resilientFetch(apiBase: string, giveUpMs: number): ResilientFetch {
  const out: ResilientFetch = { errors: [], networkErrors: 0, fetch: undefined as unknown as typeof fetch };
  out.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = (init?.method ?? 'GET').toUpperCase();
    const isApi = url.startsWith(apiBase);
    const isCreate = isApi && method === 'POST' && new URL(url).pathname === '/v1/verifications';
    const deadline = Date.now() + giveUpMs;
    for (let attempt = 1; ; attempt++) {
      const startedAt = Date.now();
      let res: Response;
      try {
        res = await fetch(input, { ...init, signal: AbortSignal.timeout(65_000) });
      } catch (err) {
        out.networkErrors += 1;
        if (Date.now() > deadline) throw err;
        await sleep(500);
        continue;
      }
      if (isApi && res.status >= 500) {
        const text = await res.text();
        let code: string | null = null;
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
        } catch {
          // not our error shape: recorded as such
        }
        out.errors.push({
          path: new URL(url).pathname,
          method,
          status: res.status,
          code,
          startedAt,
          endedAt: Date.now(),
        });
        if (Date.now() > deadline) return new Response(text, { status: res.status, headers: res.headers });
        const retryAfter = Number(res.headers.get('retry-after') ?? 1);
        await sleep(Math.min(Number.isFinite(retryAfter) ? retryAfter : 1, 5) * 1000);
        continue;
      }
      // A create no worker took yet (202, nextAction wait): the reference is the idempotency key, ask again.
      if (isCreate && res.status === 202 && Date.now() < deadline) {
        await res.arrayBuffer();
        await sleep(Math.min(250 * attempt, 2_000));
        continue;
      }
      return res;
    }
  };
  return out;
}

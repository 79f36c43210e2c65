/**
 * Prometheus metrics of the API on GET /metrics (prom-client: the standard registry and text format):
 *   http_requests_total{method,route,status}            requests per route template (never a raw URL: ids stay out)
 *   http_request_duration_seconds{method,route,status}  latency histogram
 *   webhook_receive_to_signal_seconds{route,outcome}    from a vendor's webhook (or a browser return) arriving to
 *                                                       its signal accepted by Temporal; outcome signalled / ended
 *   verifications{status}                               flows by VerificationStatus, from visibility counts
 *   verifications_running{provider}                     open flows per vendor, from visibility counts
 * plus the Node process's default metrics (CPU, memory, event-loop lag). /metrics itself and the probes
 * are not counted. The flow gauges cost 12 count queries at most once per FLOW_COUNTS_TTL_MS, whatever the
 * scrape rate. Vendor calls are measured where they happen, on the worker's endpoint (observability/vendor-calls.ts).
 * Unauthenticated, like /healthz: serve it on an internal network only.
 *
 * Also here: a span per API request (observability/tracing.ts, when tracing is on), its context active
 * through the handler so that StartWorkflow / SignalWorkflow spans are its children.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { currentTracing, otel } from '../observability/tracing';
import type { VerificationStatus } from '../workflows/shared';

const UNCOUNTED = new Set(['/metrics', '/healthz', '/readyz']);
const STATUSES: readonly VerificationStatus[] = [
  'created',
  'awaiting_user',
  'processing',
  'completed',
  'failed',
  'expired',
  'cancelled',
];
export const FLOW_COUNTS_TTL_MS = 30_000;

/** The request being handled, for measures taken deep in a handler (webhook signals). */
const inRequest = new AsyncLocalStorage<{ startedNs: bigint; route: string }>();
let signalLatency: Histogram<'route' | 'outcome'> | null = null;

/**
 * Called where a webhook or browser return has been turned into a signal (client/webhooks/signal.ts,
 * client/returns/page.ts): records the time since the request arrived.
 */
export function observeSignalDelivered(outcome: 'signalled' | 'ended'): void {
  const req = inRequest.getStore();
  if (!req || !signalLatency) return;
  signalLatency.observe({ route: req.route, outcome }, Number(process.hrtime.bigint() - req.startedNs) / 1e9);
}

const SPAN = Symbol('otelSpan');
const STARTED = Symbol('startedNs');
type Traced = FastifyRequest & { [SPAN]?: otel.Span; [STARTED]?: bigint };

/** `providers`: the registry's vendor names (open flows are counted per vendor). */
export function registerMetrics(
  app: FastifyInstance,
  opts: { client?: Client; providers?: readonly string[] } = {},
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route template and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route template and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  signalLatency = new Histogram({
    name: 'webhook_receive_to_signal_seconds',
    help: 'From a vendor webhook or browser return arriving to its signal accepted by Temporal',
    labelNames: ['route', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  if (opts.client) registerFlowGauges(registry, opts.client, opts.providers ?? []);

  app.addHook('onRequest', (req: Traced, _reply, done) => {
    req[STARTED] = process.hrtime.bigint();
    const route = req.routeOptions.url ?? 'unmatched';
    if (currentTracing() && !UNCOUNTED.has(route)) {
      req[SPAN] = otel.trace.getTracer('idv-orchestrator').startSpan(`${req.method} ${route}`, {
        kind: otel.SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'http.route': route },
      });
    }
    done();
  });
  // The rest of the request (the last hooks and the handler) runs inside the request's span and store.
  // A callback hook: fastify calls what comes next from `done`, so the async context carries on.
  app.addHook('preHandler', (req: Traced, _reply, done) => {
    const store = { startedNs: req[STARTED] ?? process.hrtime.bigint(), route: req.routeOptions.url ?? 'unmatched' };
    const span = req[SPAN];
    if (span) otel.context.with(otel.trace.setSpan(otel.context.active(), span), () => inRequest.run(store, done));
    else inRequest.run(store, done);
  });
  app.addHook('onResponse', async (req: Traced, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const span = req[SPAN];
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
      span.end();
    }
    if (UNCOUNTED.has(route)) return;
    const labels = { method: req.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true }, logLevel: 'silent' }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  return registry;
}

/** Flows by status and open flows per vendor, from visibility: counted at most once per TTL, on scrape. */
function registerFlowGauges(registry: Registry, client: Client, providers: readonly string[]): void {
  let cached: { at: number; byStatus: Map<string, number>; running: Map<string, number> } | null = null;
  let inFlight: Promise<void> | null = null;
  const count = async (query: string) => Number((await client.workflow.count(query)).count);
  const refresh = async () => {
    const byStatus = new Map<string, number>();
    const running = new Map<string, number>();
    await Promise.all([
      ...STATUSES.map(async (s) => byStatus.set(s, await count(`VerificationStatus = "${s}"`))),
      ...providers.map(async (p) =>
        running.set(p, await count(`ExecutionStatus = "Running" AND VerificationProvider = "${p}"`)),
      ),
    ]);
    cached = { at: Date.now(), byStatus, running };
  };
  const fresh = async () => {
    if (cached && Date.now() - cached.at < FLOW_COUNTS_TTL_MS) return cached;
    inFlight ??= refresh()
      .catch(() => undefined) // visibility unavailable: the gauges keep their last values
      .finally(() => (inFlight = null));
    await inFlight;
    return cached;
  };
  new Gauge({
    name: 'verifications',
    help: `Verifications by status (visibility counts, refreshed at most every ${FLOW_COUNTS_TTL_MS / 1000} s)`,
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const c = await fresh();
      if (c) for (const [status, n] of c.byStatus) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'verifications_running',
    help: `Open verification workflows per vendor (visibility counts, refreshed at most every ${FLOW_COUNTS_TTL_MS / 1000} s)`,
    labelNames: ['provider'] as const,
    registers: [registry],
    async collect() {
      const c = await fresh();
      if (c) for (const [provider, n] of c.running) this.set({ provider }, n);
    },
  });
}

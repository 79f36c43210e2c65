/**
 * Prometheus metrics of the API on GET /metrics (prom-client: the standard registry and text format):
 *   http_requests_total{method,route,status}            requests per route template (never a raw URL: ids stay out)
 *   http_request_duration_seconds{method,route,status}  latency histogram
 * plus the Node process's default metrics (CPU, memory, event-loop lag). /metrics itself and the probes
 * are not counted. Unauthenticated, like /healthz: serve it on an internal network only.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

const UNCOUNTED = new Set(['/metrics', '/healthz', '/readyz']);

export function registerMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by route template and status', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route template and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    if (UNCOUNTED.has(route)) return;
    const labels = { method: req.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true }, logLevel: 'silent' }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return registry;
}

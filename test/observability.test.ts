/**
 * Observability of one Finwave flow on the dev server (README "Running in production", Metrics and traces):
 * - traces: the spans, read from an in-memory exporter, chain API request -> StartWorkflow -> RunWorkflow ->
 *   activity -> vendor HTTP call under one trace id, and the webhook's request -> SignalWorkflow -> HandleSignal;
 * - the worker's Prometheus endpoint (the SDK runtime's) serves the SDK's metrics and our vendor-call histogram;
 * - the API's /metrics serves the webhook receive-to-signal latency and flows by status.
 * No label or span attribute carries the reference.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { Client } from '@temporalio/client';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { installTracing, tracingClientInterceptors, type Tracing } from '../observability/tracing';
import { prometheusTelemetry } from '../workers/logging';
import { freePort } from '../temporal-dev/dev-server';
import { connectToTestTemporal, testDataConverter, type TestTemporal } from './helpers/temporal';
import { control, startStack, type Stack } from './helpers/stack';

let temporal: TestTemporal;
let stack: Stack;
let tracing: Tracing;
let metricsUrl: string;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  // Before any connection: the Runtime is created once per process (module registry), with its exporter.
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: prometheusTelemetry(`127.0.0.1:${port}`) });
  tracing = installTracing({ serviceName: 'idv-test', spanProcessor: new SimpleSpanProcessor(exporter) })!;
  temporal = await connectToTestTemporal();
  const client = new Client({
    connection: temporal.connection,
    namespace: 'default',
    dataConverter: testDataConverter(),
    interceptors: tracingClientInterceptors(),
  });
  stack = await startStack({ ...temporal, client });
});

afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
  await temporal?.close();
});

const byId = (spans: ReadableSpan[]) => new Map(spans.map((s) => [s.spanContext().spanId, s]));
/** The names from `span` up to its root. */
function ancestry(span: ReadableSpan, index: Map<string, ReadableSpan>): string[] {
  const out: string[] = [];
  for (let s: ReadableSpan | undefined = span; s; s = s.parentSpanId ? index.get(s.parentSpanId) : undefined)
    out.push(s.name);
  return out.reverse();
}

test('one Finwave flow: one trace from the API request to the vendor call, and the metrics of it', async () => {
  const reference = `obs-${crypto.randomBytes(4).toString('hex')}`;
  const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference });
  expect(created.status).toBe(201);
  expect(
    (
      await control(stack, `/finwave/_sandbox/onboardings/${created.body.providerReference}/finish`, {
        scenario: 'approved',
      })
    ).status,
  ).toBe(200);
  await stack.waitFor(created.body.id, (s) => s.status === 'completed');
  await new Promise((r) => setTimeout(r, 500)); // the workflow's spans reach the sink with its last activation

  const spans = exporter.getFinishedSpans();
  const index = byId(spans);
  const createRequest = spans.find((s) => s.name === 'POST /v1/verifications');
  expect(createRequest).toBeDefined();
  const trace = spans.filter((s) => s.spanContext().traceId === createRequest!.spanContext().traceId);
  const vendorCall = trace.find(
    (s) =>
      s.name === 'Finwave createOnboarding' ||
      (s.attributes['vendor.name'] === 'Finwave' && s.kind === SpanKind.CLIENT),
  );
  expect(vendorCall).toBeDefined();
  const chain = ancestry(vendorCall!, index);
  expect(chain[0]).toBe('POST /v1/verifications');
  expect(chain[1]).toBe('StartWorkflow:finwaveOnboarding');
  expect(chain[2]).toBe('RunWorkflow:finwaveOnboarding');
  expect(chain).toEqual(
    expect.arrayContaining([expect.stringMatching(/^StartActivity:/), expect.stringMatching(/^RunActivity:/)]),
  );
  expect(chain.indexOf(chain.find((n) => n.startsWith('RunActivity:'))!)).toBe(chain.length - 2);
  expect(vendorCall!.attributes['http.response.status_code']).toBe(201);
  // The webhook: its request span parents the signal, in a trace of its own.
  const webhook = spans.find((s) => /^POST \/webhooks\/finwave/.test(s.name));
  expect(webhook).toBeDefined();
  expect(
    spans.some((s) => s.name.startsWith('SignalWorkflow:') && s.parentSpanId === webhook!.spanContext().spanId),
  ).toBe(true);
  // Spans keep ids and names only: no memo (our published state), search attributes, URLs or bodies.
  const exported = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events]));
  for (const secret of [
    created.body.providerReference,
    created.body.nextAction.url,
    'verificationState',
    'searchAttributes',
    'score',
  ])
    expect(exported).not.toContain(secret);
  // The reference appears only as part of the workflow id, as in the Web UI.
  expect(exported.replaceAll(`finwave:${reference}`, '')).not.toContain(reference);

  const worker = await (await fetch(metricsUrl)).text();
  expect(worker).toMatch(/vendor_call_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} [1-9]/);
  expect(worker).toMatch(/vendor_call_duration_seconds_bucket\{[^}]*le="0\.025"/);
  expect(worker).toMatch(/vendor="Finwave"/);
  expect(worker).toContain('temporal_activity_execution_latency');
  expect(worker).toContain('temporal_worker_task_slots_available');
  expect(worker).not.toContain(reference);

  const api = await (await fetch(`${stack.apiUrl}/metrics`)).text();
  expect(api).toMatch(
    /webhook_receive_to_signal_seconds_count\{route="\/webhooks\/finwave[^"]*",outcome="signalled"\} [1-9]/,
  );
  expect(api).toMatch(/verifications\{status="completed"\} [1-9]/);
  expect(api).toMatch(/verifications_running\{provider="finwave"\} \d+/);
  expect(api).not.toContain(reference);

  // The Grafana dashboard reads only metrics these endpoints serve (failures appear with the first one).
  const served = new Set(
    `${worker}\n${api}`
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.replace(/[{ ].*/, '')),
  );
  const dashboard = fs.readFileSync(path.join(__dirname, '../observability/grafana-dashboard.json'), 'utf8');
  const referenced = new Set(
    dashboard.match(/\b(?:temporal|vendor|http|webhook|verifications|process|nodejs)_[a-z0-9_]*|\bverifications\b/g),
  );
  expect(referenced.size).toBeGreaterThan(10);
  for (const name of referenced)
    if (name !== 'temporal_workflow_failed_total') expect([name, served.has(name)]).toEqual([name, true]);
}, 90_000);

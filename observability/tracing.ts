/**
 * OpenTelemetry traces: API request -> StartWorkflow -> RunWorkflow -> activity -> vendor HTTP call, one
 * trace id end to end (`@temporalio/interceptors-opentelemetry` carries the context through Temporal's
 * headers; fastify hooks and `callVendor` add the first and last spans).
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test passes its own span processor): nothing is
 * registered then, the OTel API stays a no-op, and the API and worker pay next to nothing. On: spans go by
 * OTLP/HTTP to `<endpoint>/v1/traces` in batches. The workflow side is the same either way: the OTel
 * workflow interceptors are always in the bundle (workers/index.ts), so the bundle, and the commands
 * workflows make, never depend on this setting; with tracing off their spans go to a sink that drops them. Spans carry route templates, workflow and activity types, vendor and
 * operation names and HTTP statuses: never a URL with ids, a body, or personal data.
 */
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { ClientInterceptors } from '@temporalio/client';

export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  /** Flushes and unregisters (the OTel API is a no-op again). */
  shutdown(): Promise<void>;
}

let installed: Tracing | null = null;

/** The tracing installed in this process, or null (off). */
export function currentTracing(): Tracing | null {
  return installed;
}

/**
 * Installs tracing for this process when `otlpEndpoint` (OTEL_EXPORTER_OTLP_ENDPOINT) or a test's
 * `spanProcessor` is given; otherwise does nothing and answers null.
 */
export function installTracing(opts: {
  serviceName: string;
  otlpEndpoint?: string | null;
  spanProcessor?: SpanProcessor;
}): Tracing | null {
  if (installed) return installed;
  let spanProcessor: SpanProcessor | null =
    opts.spanProcessor ??
    (opts.otlpEndpoint
      ? new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }))
      : null);
  if (!spanProcessor) return null;
  const resource = new Resource({ 'service.name': opts.serviceName });
  spanProcessor = new AllowedAttributesProcessor(spanProcessor);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  otel.context.setGlobalContextManager(contextManager);
  otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  otel.trace.setGlobalTracerProvider(provider);
  const tracing: Tracing = {
    resource,
    spanProcessor,
    async shutdown() {
      await provider.shutdown();
      otel.trace.disable();
      otel.context.disable();
      otel.propagation.disable();
      installed = null;
    },
  };
  installed = tracing;
  return tracing;
}

/**
 * Span attributes we keep; every other is dropped before export. The Temporal workflow interceptors attach
 * the whole `workflowInfo()` to their spans, memo (decoded: our published state) and search attributes
 * included: none of that may leave the process in clear.
 */
const ALLOWED_ATTRIBUTES = new Set([
  'temporalWorkflowId',
  'workflowId',
  'run_id',
  'runId',
  'workflowType',
  'taskQueue',
  'namespace',
  'attempt',
  'temporalActivityId',
  'temporalUpdateId',
  'temporalNexusOperationId',
]);
const ALLOWED_PREFIXES = ['http.', 'vendor.', 'otel.', 'exception.type'];
export const allowedAttribute = (key: string) =>
  ALLOWED_ATTRIBUTES.has(key) || ALLOWED_PREFIXES.some((p) => key.startsWith(p));

class AllowedAttributesProcessor implements SpanProcessor {
  constructor(private readonly inner: SpanProcessor) {}
  onStart(span: Span, parentContext: otel.Context): void {
    this.inner.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    const attributes = Object.fromEntries(Object.entries(span.attributes).filter(([k]) => allowedAttribute(k)));
    // Exception events keep their type only (messages are ours and carry no personal data, but stacks and
    // vendor texts need not travel).
    const events = span.events.map((e) => ({
      ...e,
      attributes: Object.fromEntries(Object.entries(e.attributes ?? {}).filter(([k]) => k === 'exception.type')),
    }));
    this.inner.onEnd(Object.assign(Object.create(span) as ReadableSpan, { attributes, events }));
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** The Temporal Client's interceptors: StartWorkflow / SignalWorkflow spans, context into the headers. */
export function tracingClientInterceptors(): ClientInterceptors | undefined {
  return installed ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/**
 * What every Worker running the workflow bundle needs: the sink the workflow interceptors' spans go to
 * (those interceptors are always bundled: workers/index.ts) and, when tracing is on, the activity
 * interceptors. With tracing off the sink drops the spans (without it, the Worker would log an
 * "unregistered external sink" error for every workflow activation).
 */
export function tracingWorkerOptions(): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  if (!installed) return { sinks: { exporter: { export: { fn: () => undefined } } } as InjectedSinks<never> };
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(installed.spanProcessor, installed.resource) } as InjectedSinks<never>,
  };
}

/** The workflow-side interceptors module, for `bundleWorkflowCode`'s `workflowInterceptorModules`. */
export const WORKFLOW_TRACING_INTERCEPTORS =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

const tracer = () => otel.trace.getTracer('idv-orchestrator');

/**
 * Runs `fn` in a client span named after the vendor call, with the W3C `traceparent` for the request
 * headers. No-op (no span, no header) while tracing is off.
 */
export async function withVendorSpan<T>(
  attrs: { vendor: string; operation: string; method: string },
  fn: (traceHeaders: Record<string, string>) => Promise<T>,
  statusOf: (result: T) => number,
): Promise<T> {
  if (!installed) return fn({});
  return tracer().startActiveSpan(
    `${attrs.vendor} ${attrs.operation}`,
    {
      kind: otel.SpanKind.CLIENT,
      attributes: {
        'vendor.name': attrs.vendor,
        'vendor.operation': attrs.operation,
        'http.request.method': attrs.method,
      },
    },
    async (span) => {
      const headers: Record<string, string> = {};
      otel.propagation.inject(otel.context.active(), headers);
      try {
        const result = await fn(headers);
        span.setAttribute('http.response.status_code', statusOf(result));
        return result;
      } catch (err) {
        const e = err as { type?: string; details?: unknown[] };
        const status = (e.details?.[0] as { httpStatus?: number } | undefined)?.httpStatus;
        if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
        span.setStatus({ code: otel.SpanStatusCode.ERROR, message: e.type ?? 'error' });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

export { otel };

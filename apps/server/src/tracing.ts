import { context, propagation, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";

export interface Tracing {
  tracer: Tracer;
  /** Sends what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry for the server: spans go over OTLP/HTTP to `endpoint`
 * (OTEL_EXPORTER_OTLP_ENDPOINT) in batches, or, in tests, to `exporter`
 * one by one. W3C trace context is read from requests, and async context
 * (AsyncLocalStorage) carries the active span into handlers.
 */
export function setupTracing(options: { endpoint?: string; exporter?: SpanExporter }): Tracing | undefined {
  const processor = options.exporter
    ? new SimpleSpanProcessor({ exporter: options.exporter })
    : options.endpoint
      ? new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, "")}/v1/traces` }),
        })
      : undefined;
  if (!processor) return undefined;
  // Global, and set once per process: a second server in the same process
  // (tests) keeps the first's, which are the same kinds.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "greeter" }),
    spanProcessors: [processor],
  });
  return { tracer: provider.getTracer("greeter-server"), shutdown: () => provider.shutdown() };
}

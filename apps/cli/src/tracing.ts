import { propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, the CLI's CLIENT span of every call
 * (see transport.ts) goes to that collector over OTLP/HTTP, and the server's
 * span joins its trace through the W3C traceparent header. Without it,
 * nothing is set up and the tracing interceptor does nothing.
 */
export function startTracing(endpoint: string | undefined): { shutdown(): Promise<void> } | undefined {
  if (!endpoint) return undefined;
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "greeter-cli" }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // A CLI exits right after its call: send the batch before it does.
  return { shutdown: () => provider.shutdown() };
}

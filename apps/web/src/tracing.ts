import { propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

/**
 * Traces start in the browser: every call gets a CLIENT span and sends its
 * W3C traceparent, so the server's span (and anything it calls) joins the
 * trace of what the person did. The spans are exported only when the build
 * names a collector, VITE_OTEL_EXPORTER_OTLP_ENDPOINT (which must allow this
 * page's origin by CORS); otherwise they exist just to carry the trace id.
 */
export function setupTracing(endpoint: string | undefined): void {
  const exporter = endpoint ? new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` }) : undefined;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "greeter-web" }),
    spanProcessors: exporter ? [new BatchSpanProcessor({ exporter })] : [],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

import { randomUUID } from "node:crypto";
import type { Meter } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { type IMetricReader, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";

export interface OtelMetrics {
  meter: Meter;
  /** Exports what was recorded since the last export, then stops. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry metrics for the server: pushed over OTLP/HTTP to
 * `endpoint` (OTEL_EXPORTER_OTLP_ENDPOINT) once a minute, the SDK's
 * default interval, or, in tests, read by `reader`. Not global: only the
 * server's own interceptor records into this provider.
 *
 * Each process is its own `service.instance.id`: with WORKERS=N, N
 * processes export cumulative histograms with the same attributes, which a
 * backend could only tell apart by the instance.
 */
export function setupOtelMetrics(options: { endpoint?: string; reader?: IMetricReader }): OtelMetrics | undefined {
  const reader =
    options.reader ??
    (options.endpoint
      ? new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `${options.endpoint.replace(/\/$/, "")}/v1/metrics` }),
        })
      : undefined);
  if (!reader) return undefined;
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": "greeter", "service.instance.id": randomUUID() }),
    readers: [reader],
  });
  return { meter: provider.getMeter("greeter-server"), shutdown: () => provider.shutdown() };
}

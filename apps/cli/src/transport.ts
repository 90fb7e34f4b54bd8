import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  createBearerTokenInterceptor,
  createChunkChecksumInterceptor,
  createClientMetadataInterceptor,
  createClientTracingInterceptor,
  createRetryInterceptor,
  type RpcSemconv,
  rpcSemconvFromOptIn,
  SEMCONV_OPT_IN_ENV,
} from "@greeter/interceptors";
import { createClientMetricsInterceptor } from "@greeter/interceptors/client-metrics";
import type { Registry } from "prom-client";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export const PROTOCOLS = ["grpc", "grpc-web", "connect"] as const;

/** The RPC conventions of the CLI's spans, read once: OTEL_SEMCONV_STABILITY_OPT_IN, as the server reads it. */
const SEMCONV = rpcSemconvFromOptIn(process.env[SEMCONV_OPT_IN_ENV]);
export type Protocol = (typeof PROTOCOLS)[number];

export interface TransportOptions {
  baseUrl: string;
  protocol: Protocol;
  /**
   * Bidirectional streaming needs HTTP/2 end to end. gRPC always uses it;
   * Connect uses HTTP/1.1 (what browsers and most proxies speak) unless a
   * call needs HTTP/2.
   */
  needsHttp2: boolean;
  /** A bearer token to send with every call. */
  token?: string;
  /** Where the client metrics (grpc_client_*) of the calls go, if anywhere. */
  metrics?: Registry;
  /** Which OpenTelemetry RPC conventions the spans follow. @default from OTEL_SEMCONV_STABILITY_OPT_IN */
  semconv?: RpcSemconv;
}

/** A transport for one of the three protocols the Greeter server speaks. */
export function createTransport({
  baseUrl,
  protocol,
  needsHttp2,
  token,
  metrics,
  semconv = SEMCONV,
}: TransportOptions): Transport {
  const interceptors = [
    createClientMetadataInterceptor({
      name: "greeter-cli",
      version,
      device: "terminal",
      os: `${platform()}-${arch()}`,
      userAgent: `greeter-cli/${version} node/${process.versions.node}`,
    }),
    createBearerTokenInterceptor(() => token),
    // CRC32C on every upload chunk; the server checks them (DATA_LOSS if damaged).
    createChunkChecksumInterceptor(),
    // A CLIENT span per call and W3C traceparent to the server; a no-op
    // unless the process registers an OpenTelemetry tracer provider.
    createClientTracingInterceptor({ protocol, semconv }),
    // Outside the retries: one call counted once, with the code it ended with.
    ...(metrics ? [createClientMetricsInterceptor({ registry: metrics })] : []),
    // A replica going away (UNAVAILABLE) should not fail a command: retry
    // where it is safe (see the interceptor's rules). Innermost, so every
    // attempt carries the headers above.
    createRetryInterceptor(),
  ];
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: needsHttp2 ? "2" : "1.1", interceptors });
  }
}

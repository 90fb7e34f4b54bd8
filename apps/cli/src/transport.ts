import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createRetryInterceptor } from "@greeter/interceptors";

export const PROTOCOLS = ["grpc", "grpc-web", "connect"] as const;
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
}

/** A transport for one of the three protocols the Greeter server speaks. */
export function createTransport({ baseUrl, protocol, needsHttp2 }: TransportOptions): Transport {
  // A replica going away (UNAVAILABLE) should not fail a command: retry
  // where it is safe (see the interceptor's rules).
  const interceptors = [createRetryInterceptor()];
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: needsHttp2 ? "2" : "1.1", interceptors });
  }
}

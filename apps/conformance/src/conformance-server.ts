import type { AddressInfo } from "node:net";
import { createRegistry } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { type ConnectServerRouterOptions, createConnectServer, type RefusedCall } from "@greeter/connect-server";
import { registerConformanceService } from "./conformance-service.js";
import {
  BidiStreamRequestSchema,
  ClientStreamRequestSchema,
  ConformancePayload_RequestInfoSchema,
  IdempotentUnaryRequestSchema,
  ServerStreamRequestSchema,
  UnaryRequestSchema,
} from "./gen/connectrpc/conformance/v1/service_pb.js";

/** How to start the ConformanceService on Greeter's stack. */
export interface ConformanceServerOptions {
  /** The fast path in front of connect-fastify; false: connect-node answers every call. Default true. */
  fastPath?: boolean;
  /** The largest request message; default none (connect-node's 4 GiB). */
  readMaxBytes?: number;
  /** Interceptors, the same list on both paths; default none. */
  interceptors?: Interceptor[];
  /** TLS credentials (PEM); default cleartext. */
  tls?: { cert: Uint8Array; key: Uint8Array; clientCa?: Uint8Array };
  /** How long an idle connection is kept; default one-port's own (5 s). */
  keepAliveTimeoutMs?: number;
  /** Told of calls refused before the interceptors, on either path; default none. */
  onRefused?: (refusal: RefusedCall) => void;
  /** Router options given to both paths (the differential test tries them); default connect-node's. */
  routerOptions?: Pick<
    ConnectServerRouterOptions,
    "maxTimeoutMs" | "requireConnectProtocolHeader" | "requestGate" | "grpc" | "grpcWeb" | "connect"
  >;
}

/** A ConformanceService listening on 127.0.0.1. */
export interface ConformanceServer {
  readonly host: string;
  readonly port: number;
  /** Drains every connection (within `graceMs`, default 1 s), then closes Fastify. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The ConformanceService on the assembly Greeter's server ships
 * (`@greeter/connect-server`: one-port, the fast path, Fastify and
 * connect-fastify, with what connect-node lacks). The official suite and
 * the differential test both run against it.
 */
export async function startConformanceServer(options: ConformanceServerOptions = {}): Promise<ConformanceServer> {
  const { app, onePort } = await createConnectServer({
    routes: registerConformanceService,
    router: {
      ...options.routerOptions,
      interceptors: options.interceptors ?? [],
      acceptCompression: [compressionGzip, compressionBrotli],
      readMaxBytes: options.readMaxBytes,
      // The requests echoed back travel in Anys, which JSON writes by type name.
      jsonOptions: {
        registry: createRegistry(
          UnaryRequestSchema,
          IdempotentUnaryRequestSchema,
          ServerStreamRequestSchema,
          ClientStreamRequestSchema,
          BidiStreamRequestSchema,
          ConformancePayload_RequestInfoSchema,
        ),
      },
    },
    fastPath: options.fastPath,
    onRefused: options.onRefused,
    onePort: {
      tls: options.tls && {
        cert: Buffer.from(options.tls.cert),
        key: Buffer.from(options.tls.key),
        clientCa: options.tls.clientCa && Buffer.from(options.tls.clientCa),
      },
      // Left out when not given: one-port's defaults are spread under the options.
      ...(options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeoutMs: options.keepAliveTimeoutMs }),
    },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { address, port } = onePort.server.address() as AddressInfo;
  return {
    host: address,
    port,
    async close(graceMs = 1000) {
      await onePort.drain(graceMs);
      await app.close();
    },
  };
}

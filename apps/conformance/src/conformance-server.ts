import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRegistry } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import {
  clampLongTimeouts,
  createConnectNodeCompletions,
  createFastPath,
  type FastPathOptions,
} from "@greeter/connect-fast-path";
import { createOnePortServer, type DualRequestListener, type OnePortServer } from "@greeter/one-port";
import Fastify from "fastify";
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
  /** The fast path's `onRefused` (told of calls refused before the interceptors); default none. */
  onRefused?: FastPathOptions["onRefused"];
  /** Router options given to both paths (the differential test tries them); default connect-node's. */
  routerOptions?: Pick<
    FastPathOptions,
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
 * The ConformanceService on one-port, Fastify and connect-fastify, with the
 * fast path in front (or, without it, connect-node's completions), as
 * Greeter's server assembles them (apps/server/src/server.ts). The official
 * suite and the differential test both run against it.
 */
export async function startConformanceServer(options: ConformanceServerOptions = {}): Promise<ConformanceServer> {
  const handlerOptions = {
    ...options.routerOptions,
    routes: registerConformanceService,
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
  };
  const fastPath =
    options.fastPath === false ? undefined : createFastPath({ ...handlerOptions, onRefused: options.onRefused });
  const ahead = fastPath ?? createConnectNodeCompletions(handlerOptions);

  let onePort: OnePortServer | undefined;
  const app = Fastify({
    serverFactory(handler) {
      const fastify = handler as DualRequestListener;
      // As the server does: connect-node gets long deadlines clamped.
      const handOn: DualRequestListener = (req, res) => {
        clampLongTimeouts(req.headers, options.routerOptions?.maxTimeoutMs);
        fastify(req, res);
      };
      onePort = createOnePortServer((req, res) => ahead.handle(req, res) || handOn(req, res), {
        tls: options.tls && {
          cert: Buffer.from(options.tls.cert),
          key: Buffer.from(options.tls.key),
          clientCa: options.tls.clientCa && Buffer.from(options.tls.clientCa),
        },
        takeStream: fastPath?.takeStream,
        // Left out when not given: one-port's defaults are spread under the options.
        ...(options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeoutMs: options.keepAliveTimeoutMs }),
      });
      return onePort.server as HttpServer;
    },
  });
  await app.register(fastifyConnectPlugin, handlerOptions);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const server = onePort as OnePortServer;
  const { address, port } = server.server.address() as AddressInfo;
  return {
    host: address,
    port,
    async close(graceMs = 1000) {
      await server.drain(graceMs);
      await app.close();
    },
  };
}

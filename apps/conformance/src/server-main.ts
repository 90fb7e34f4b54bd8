// The server under test for `connectconformance --mode server`: it reads a
// ServerCompatRequest (size-delimited) on stdin, starts the
// ConformanceService on Greeter's own stack, and writes a
// ServerCompatResponse with the port on stdout. FAST_PATH=false leaves
// every call to connect-fastify.
import { readFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { create, createRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { clampLongTimeouts, createConnectNodeCompletions, createFastPath } from "@greeter/connect-fast-path";
import { createOnePortServer, type DualRequestListener, type OnePortServer } from "@greeter/one-port";
import Fastify from "fastify";
import { registerConformanceService } from "./conformance-service.js";
import {
  ServerCompatRequestSchema,
  ServerCompatResponseSchema,
} from "./gen/connectrpc/conformance/v1/server_compat_pb.js";
import {
  BidiStreamRequestSchema,
  ClientStreamRequestSchema,
  ConformancePayload_RequestInfoSchema,
  IdempotentUnaryRequestSchema,
  ServerStreamRequestSchema,
  UnaryRequestSchema,
} from "./gen/connectrpc/conformance/v1/service_pb.js";

const stdin = readFileSync(process.stdin.fd);
const request = fromBinary(ServerCompatRequestSchema, stdin.subarray(4, 4 + stdin.readUInt32BE(0)));
const fastPathOn = process.env.FAST_PATH !== "false";

const options = {
  routes: registerConformanceService,
  acceptCompression: [compressionGzip, compressionBrotli],
  // 0: the runner sets no limit.
  readMaxBytes: request.messageReceiveLimit || undefined,
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
const fastPath = fastPathOn ? createFastPath(options) : undefined;
const ahead = fastPath ?? createConnectNodeCompletions(options);

let onePort: OnePortServer | undefined;
const credentials = request.useTls ? request.serverCreds : undefined;
const app = Fastify({
  serverFactory(handler) {
    const fastify = handler as DualRequestListener;
    // As the server does (apps/server/src/server.ts): connect-node gets long deadlines clamped.
    const handOn: DualRequestListener = (req, res) => {
      clampLongTimeouts(req.headers);
      fastify(req, res);
    };
    onePort = createOnePortServer((req, res) => ahead.handle(req, res) || handOn(req, res), {
      tls: credentials && {
        cert: Buffer.from(credentials.cert),
        key: Buffer.from(credentials.key),
        clientCa: request.clientTlsCert.length > 0 ? Buffer.from(request.clientTlsCert) : undefined,
      },
      takeStream: fastPath?.takeStream,
      // The reference client never lets an idle connection go (a Go
      // http.Transport without IdleConnTimeout). With one-port's 5 s, a POST
      // sent on a connection the server was closing at that moment failed
      // with "broken pipe": HTTP/1.1's keep-alive race, which Go retries
      // only for idempotent requests. Idle connections stay for a whole run.
      keepAliveTimeoutMs: 600_000,
    });
    return onePort.server as HttpServer;
  },
});
await app.register(fastifyConnectPlugin, options);
await app.listen({ host: "127.0.0.1", port: 0 });

const { address, port } = (onePort as OnePortServer).server.address() as AddressInfo;
const response = toBinary(
  ServerCompatResponseSchema,
  create(ServerCompatResponseSchema, { host: address, port, pemCert: credentials?.cert ?? new Uint8Array() }),
);
const size = Buffer.alloc(4);
size.writeUInt32BE(response.length);
process.stdout.write(Buffer.concat([size, response]));

process.once("SIGTERM", () => {
  void onePort?.drain(1000).then(() => app.close());
});

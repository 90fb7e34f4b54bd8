// The server under test for `connectconformance --mode server`: it reads a
// ServerCompatRequest (size-delimited) on stdin, starts the
// ConformanceService on Greeter's own stack, and writes a
// ServerCompatResponse with the port on stdout. FAST_PATH=false leaves
// every call to connect-fastify.
import { readFileSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { startConformanceServer } from "./conformance-server.js";
import {
  ServerCompatRequestSchema,
  ServerCompatResponseSchema,
} from "./gen/connectrpc/conformance/v1/server_compat_pb.js";

const stdin = readFileSync(process.stdin.fd);
const request = fromBinary(ServerCompatRequestSchema, stdin.subarray(4, 4 + stdin.readUInt32BE(0)));
const credentials = request.useTls ? request.serverCreds : undefined;

const server = await startConformanceServer({
  fastPath: process.env.FAST_PATH !== "false",
  // 0: the runner sets no limit.
  readMaxBytes: request.messageReceiveLimit || undefined,
  tls: credentials && {
    cert: credentials.cert,
    key: credentials.key,
    clientCa: request.clientTlsCert.length > 0 ? request.clientTlsCert : undefined,
  },
  // The reference client never lets an idle connection go (a Go
  // http.Transport without IdleConnTimeout). With one-port's 5 s, a POST
  // sent on a connection the server was closing at that moment failed
  // with "broken pipe": HTTP/1.1's keep-alive race, which Go retries
  // only for idempotent requests. Idle connections stay for a whole run.
  keepAliveTimeoutMs: 600_000,
});

const response = toBinary(
  ServerCompatResponseSchema,
  create(ServerCompatResponseSchema, {
    host: server.host,
    port: server.port,
    pemCert: credentials?.cert ?? new Uint8Array(),
  }),
);
const size = Buffer.alloc(4);
size.writeUInt32BE(response.length);
process.stdout.write(Buffer.concat([size, response]));

process.once("SIGTERM", () => {
  void server.close();
});

import type { StreamRequest, UnaryRequest } from "@connectrpc/connect";

// Shared by the client and server interceptors: it lives outside server/ so
// that what the clients import depends on nothing of the server's.

const GRPC_TYPES = {
  unary: "unary",
  server_streaming: "server_stream",
  client_streaming: "client_stream",
  bidi_streaming: "bidi_stream",
} as const;

/** The `grpc_type` label of the Prometheus gRPC conventions. */
export function grpcType(req: UnaryRequest | StreamRequest): string {
  return GRPC_TYPES[req.method.methodKind];
}

import type { CallEngine, ProtocolHandler } from "./call/engine.js";
import { createConnectHandler } from "./protocol-connect/handler.js";
import { createGrpcHandler } from "./protocol-grpc/handler.js";
import { createGrpcWebHandler } from "./protocol-grpc-web/handler.js";

/**
 * The three protocols in one handler, gRPC first (the common call). Their
 * content types do not overlap, so a request is taken by one at most.
 */
export function createProtocolHandler(engine: CallEngine): ProtocolHandler {
  const grpc = createGrpcHandler(engine);
  const grpcWeb = createGrpcWebHandler(engine);
  const connect = createConnectHandler(engine);
  return { handle: (req, res) => grpc.handle(req, res) || grpcWeb.handle(req, res) || connect.handle(req, res) };
}

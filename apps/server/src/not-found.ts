import { Code } from "@connectrpc/connect";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * Answers requests for routes that do not exist in the caller's own
 * protocol, so that a gRPC client reports UNIMPLEMENTED with a message
 * rather than a bare HTTP 404.
 */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const contentType = request.headers["content-type"] ?? "";
  const message = `no such method or route: ${request.method} ${request.url}`;
  if (/^application\/grpc(-web)?(\+|;|$|-text)/.test(contentType)) {
    // A "Trailers-Only" response: status in the headers, valid for gRPC and
    // gRPC-Web alike.
    reply
      .code(200)
      .header("content-type", contentType.split(";")[0])
      .header("grpc-status", String(Code.Unimplemented))
      .header("grpc-message", encodeURIComponent(message))
      .send();
    return;
  }
  // Connect and plain HTTP clients: the Connect error shape.
  reply.code(404).send({ code: "unimplemented", message });
}

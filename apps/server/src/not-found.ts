import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * Answers requests for routes that do not exist in the caller's own
 * protocol, so that every client reports UNIMPLEMENTED with a message
 * rather than an HTTP 404 it has to interpret.
 */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const contentType = request.headers["content-type"] ?? "";
  const error = new ConnectError(`no such method or route: ${request.method} ${request.url}`, Code.Unimplemented);
  const trailer = setTrailerStatus(new Headers(), error);

  if (/^application\/grpc-web(-text)?([+;]|$)/.test(contentType)) {
    // gRPC-Web carries trailers as the last frame of the body.
    const frame = encodeEnvelope(trailerFlag, trailerSerialize(trailer));
    const body = contentType.startsWith("application/grpc-web-text") ? Buffer.from(frame).toString("base64") : frame;
    reply.code(200).header("content-type", contentType.split(";")[0]).send(body);
    return;
  }
  if (/^application\/grpc([+;]|$)/.test(contentType)) {
    // gRPC puts the status in HTTP trailers, which Fastify's reply does not
    // send for an empty body: write the raw response.
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { "content-type": contentType.split(";")[0] });
    raw.addTrailers(Object.fromEntries(trailer));
    raw.end();
    return;
  }
  // Connect and plain HTTP clients: the Connect error shape.
  reply.code(404).send({ code: "unimplemented", message: error.rawMessage });
}

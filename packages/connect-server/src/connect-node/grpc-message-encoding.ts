import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { encodeGrpcMessage, type NodeResponse } from "@greeter/connect-fast-path";

const GRPC = /^application\/grpc(\+|;|$)/;

/**
 * connect-node percent-encodes `grpc-message` as encodeURIComponent does;
 * grpc-js decodes it with decodeURI, which leaves "%3A", "%2C" and the like
 * in the text a person reads. For a gRPC call over HTTP/2 that connect-node
 * answers, this re-encodes the message as the gRPC spec says (and as the
 * fast path sends it) on its way out.
 */
export function encodeGrpcMessagesAsSpecified(headers: IncomingHttpHeaders, res: NodeResponse): void {
  if (!("stream" in res) || !GRPC.test(headers["content-type"] ?? "")) return;
  const addTrailers = res.addTrailers.bind(res);
  res.addTrailers = (trailers: OutgoingHttpHeaders) => {
    const message = trailers["grpc-message"];
    if (typeof message === "string") trailers["grpc-message"] = encodeGrpcMessage(decodeOrKeep(message));
    addTrailers(trailers);
  };
}

function decodeOrKeep(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

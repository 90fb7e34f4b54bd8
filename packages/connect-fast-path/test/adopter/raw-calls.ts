import http from "node:http";
import http2, { type IncomingHttpHeaders } from "node:http2";

/** A gRPC call's answer as it came over HTTP/2: heads, trailers and message bytes. */
export interface RawGrpcAnswer {
  /** The response's first HEADERS frame. A Trailers-Only answer puts `grpc-status` here. */
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  messages: Uint8Array[];
  /** `grpc-status`, wherever it came. */
  status: string | undefined;
}

/**
 * Sends a gRPC request by hand on its own HTTP/2 connection: `message` in
 * one envelope, or no body at all and the request left open ("never"), to
 * see what a server answers before a body arrives. Rejects after 10 s:
 * the request would otherwise wait for ever on a server that waits too.
 */
export async function rawGrpcCall(
  url: string,
  path: string,
  headers: Record<string, string>,
  message: Uint8Array | "never",
): Promise<RawGrpcAnswer> {
  const session = http2.connect(url);
  try {
    const stream = session.request(
      { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers },
      { endStream: false, signal: AbortSignal.timeout(10_000) },
    );
    if (message !== "never") stream.end(envelope(message));
    const answer: RawGrpcAnswer = { headers: {}, trailers: {}, messages: [], status: undefined };
    stream.on("response", (h) => {
      answer.headers = h;
    });
    stream.on("trailers", (t) => {
      answer.trailers = t;
    });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    answer.messages = unframe(Buffer.concat(chunks));
    const status = answer.trailers["grpc-status"] ?? answer.headers["grpc-status"];
    answer.status = Array.isArray(status) ? status[0] : status;
    return answer;
  } finally {
    session.destroy();
  }
}

function envelope(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

function unframe(body: Buffer): Uint8Array[] {
  const messages: Uint8Array[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    messages.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

/** What an HTTP/1.1 request got: its status and body. */
export interface RawAnswer {
  status: number;
  body: string;
}

/**
 * Sends the head of a Connect unary POST (JSON) that announces a body and
 * never sends it, on HTTP/1.1, and reads the answer. Rejects after 10 s,
 * as a server that waits for the body would never answer.
 */
export function connectPostWithoutBody(url: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "64" },
      signal: AbortSignal.timeout(10_000),
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        req.destroy();
      });
    });
    req.flushHeaders();
  });
}

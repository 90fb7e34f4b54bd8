import http2 from "node:http2";

// Requests with nothing checked or fixed up by a client library, for the
// tests of what the server does with bytes as a client sends them.

export interface RawResponse {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One request over a fresh HTTP/2 connection, with nothing checked or fixed up by a client library. */
export function h2Request(url: string, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ...headers });
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      responseHeaders = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve({ status, headers: responseHeaders, trailers, body: Buffer.concat(chunks) });
    });
    stream.end(body);
  });
}

/** A gRPC frame: flags (1 = compressed), 4-byte big-endian length, message. */
export function frame(message: Uint8Array, declaredLength = message.length, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([head, message]);
}

/** An HTTP/2 frame: 24-bit length, type, flags, stream id, payload. */
export function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK literal (never indexed) whose name is entry `nameIndex` of the static table (under 15). */
function literal(nameIndex: number, value: string): Buffer {
  return Buffer.concat([Buffer.from([nameIndex, value.length]), Buffer.from(value)]);
}

/** An HPACK block (static table and literals only) of a gRPC call's request headers, with a `grpc-timeout` if given. */
export function grpcHeaderBlock(path: string, grpcTimeout?: string): Buffer {
  const timeout = grpcTimeout
    ? [
        Buffer.from([0x00, 12]),
        Buffer.from("grpc-timeout"),
        Buffer.from([grpcTimeout.length]),
        Buffer.from(grpcTimeout),
      ]
    : [];
  return Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table)
    literal(0x04, path),
    literal(0x01, "localhost"),
    Buffer.from([0x0f, 0x10]), // content-type: static entry 31, as a 4-bit prefix and the rest
    Buffer.from([16]),
    Buffer.from("application/grpc"),
    Buffer.from([0x00, 2]),
    Buffer.from("te"),
    Buffer.from([8]),
    Buffer.from("trailers"),
    // After the pseudo-headers, which must come first.
    ...timeout,
  ]);
}

/** The client connection preface and an empty SETTINGS frame. */
export const CLIENT_PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
  h2Frame(4, 0, 0, Buffer.alloc(0)),
]);

/** An RST_STREAM frame with CANCEL (8). */
export const rstCancel = (streamId: number): Buffer => h2Frame(3, 0, streamId, Buffer.from([0, 0, 0, 8]));

/**
 * The bytes of a rapid-reset attack (CVE-2023-44487) on `path`: the
 * connection preface, then `count` pairs of a gRPC call's HEADERS and an
 * RST_STREAM (CANCEL) for it, on streams 1, 3, 5, …
 */
export function rapidResetFlood(path: string, count: number): Buffer {
  const headers = grpcHeaderBlock(path);
  const parts: Buffer[] = [CLIENT_PREFACE];
  for (let i = 0; i < count; i++) {
    const id = 1 + 2 * i;
    parts.push(h2Frame(1, 0x4, id, headers), rstCancel(id));
  }
  return Buffer.concat(parts);
}

/** The frames in the bytes a peer sent, whole ones only: type, flags, stream id and payload. */
export function framesIn(bytes: Buffer): { type: number; flags: number; streamId: number; payload: Buffer }[] {
  const found: { type: number; flags: number; streamId: number; payload: Buffer }[] = [];
  let at = 0;
  while (at + 9 <= bytes.length) {
    const length = bytes.readUIntBE(at, 3);
    if (at + 9 + length > bytes.length) break;
    found.push({
      type: bytes[at + 3] as number,
      flags: bytes[at + 4] as number,
      streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff,
      payload: bytes.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  return found;
}

/** The GOAWAY frames (type 7) in the bytes a server sent: each one's last stream id and error code. */
export function goawaysIn(bytes: Buffer): { lastStreamId: number; code: number }[] {
  return framesIn(bytes)
    .filter((f) => f.type === 7)
    .map((f) => ({ lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) }));
}

/**
 * A body with the request id's value (new on every call) masked, and a
 * gRPC-Web trailer frame's lines sorted: their order carries no meaning.
 */
export function comparableBody(body: Buffer): string {
  const masked = body
    .toString("latin1")
    .replace(/x-request-id: [^\r]*/, "x-request-id: *")
    .replace(/"x-request-id":\["[^"]*"\]/, '"x-request-id":["*"]');
  const trailerAt = masked.lastIndexOf("\x80");
  if (trailerAt < 0) return masked;
  const lines = masked
    .slice(trailerAt + 5)
    .split("\r\n")
    .filter(Boolean)
    .sort();
  return `${masked.slice(0, trailerAt)}[trailer] ${lines.join(" | ")}`;
}

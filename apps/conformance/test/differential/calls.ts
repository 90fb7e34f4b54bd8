import { brotliCompressSync, gzipSync } from "node:zlib";
import { create, type DescMessage, type MessageShape, toBinary, toJsonString } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  ErrorSchema,
  type Header,
  HeaderSchema,
  IdempotentUnaryRequestSchema,
  ServerStreamRequestSchema,
  StreamResponseDefinitionSchema,
  UnaryRequestSchema,
  UnaryResponseDefinitionSchema,
} from "../../src/gen/connectrpc/conformance/v1/service_pb.js";
import { ERROR_METADATA, FAIL } from "./failing-interceptor.js";
import { GATE } from "./gate.js";

// Calls to the ConformanceService generated in bulk, as a client could send
// them: every protocol, codec and HTTP version, the headers a client
// controls (right, wrong and misplaced), and bodies whole or broken. A
// call is a plain description (shrinks well, prints readably); `toWire`
// turns it into the bytes both servers get.

export type Protocol = "connect" | "connect-get" | "connect-stream" | "grpc" | "grpc-web" | "grpc-web-text";
export type Codec = "proto" | "json";

/** What the handler is asked to answer, through the request's response definition. */
export interface Answer {
  /** Response headers and trailers the handler sets. */
  headers: [string, string][];
  trailers: [string, string][];
  /** Messages sent (unary: the first, or none when failing). */
  data: string[];
  /** A ConnectError the handler throws (a stream's: after its messages). */
  error?: { code: number; message?: string };
}

/** One generated call, before it is turned into bytes. */
export interface Call {
  protocol: Protocol;
  codec: Codec;
  http: "1.1" | "2";
  /** gRPC and gRPC-Web only; Connect's unary and stream protocols each serve one kind. */
  kind: "unary" | "server-stream";
  answer: Answer;
  /** How the content type is written: as specified, in odd case, with a charset, the other codec's, or unknown. */
  contentType: "exact" | "upper" | "charset" | "charset-upper" | "other-codec" | "unknown" | "none";
  /** Request compression: the protocol's header and a body compressed to match, or not. */
  compression: "none" | "identity" | "gzip" | "br" | "gzip-uncompressed" | "zstd";
  /** Headers a client controls, any protocol's, each possibly absent. */
  headers: [string, string][];
  body: "valid" | "truncated" | "flag-compressed" | "flag-end" | "other-codec" | "empty" | "two-messages" | "trailing";
  /** For the truncated body: how many bytes are cut. */
  cut: number;
}

export const SERVICE = "/connectrpc.conformance.v1.ConformanceService";

const printable = fc.constantFrom(
  "",
  "a",
  "plain text",
  "café 100% ✓",
  "line\nbreak",
  "tab\there",
  "  padded  ",
  "%41",
);
const headerValue = fc.constantFrom("v", "two words", "a,b", "AAEC", "AAEC==", "not base64!", "%41", "ü");

const answerArb = fc.record({
  headers: fc.array(fc.tuple(fc.constantFrom("x-echo", "x-echo-bin", "x-other"), headerValue), { maxLength: 2 }),
  trailers: fc.array(fc.tuple(fc.constantFrom("x-trail", "x-trail-bin"), headerValue), { maxLength: 2 }),
  data: fc.array(fc.constantFrom("", "x", "hello", "é", "a".repeat(1500)), { maxLength: 3 }),
  error: fc.option(
    fc.record({ code: fc.integer({ min: 1, max: 16 }), message: printable }, { requiredKeys: ["code"] }),
    { nil: undefined },
  ),
});

/** Header values clients send, well-formed or not, for each header a client controls. */
const CLIENT_HEADERS: Record<string, string[]> = {
  "accept-encoding": ["gzip", "br", "gzip, br", "br;q=0.5, gzip", "gzip;q=0, br", "identity", "*", "GZIP", "zstd", ""],
  "connect-accept-encoding": ["gzip", "br", "br, gzip", "gzip;q=0", "deflate", "identity", ""],
  "grpc-accept-encoding": ["gzip", "br", "identity,gzip", " br ,gzip", "gzip;q=0, br", "snappy", ""],
  "grpc-timeout": ["5S", "10000m", "2M", "1H", "720H", "99999999H", "123456789S", "soon", "-1S", "1.5S", "5", ""],
  "connect-timeout-ms": ["5000", "60000", "9999999999", "2147483648", "-1", "1e4", "soon", "12345678901", ""],
  "connect-protocol-version": ["1", "2", "", "1.0"],
  "x-grpc-web": ["1"],
  "x-user-agent": ["grpc-web-javascript/0.1"],
  "x-custom": ["v", "two words", "a,b"],
  "x-custom-bin": ["AAEC", "AAEC==", "not base64!"],
  te: ["trailers"],
  [FAIL]: ["plain", "plain-mid-stream"],
  [ERROR_METADATA]: Object.keys({ protocol: 0, custom: 0, both: 0 }),
  [GATE]: ["refuse", "refuse-later", "plain", "pass", "thenable"],
};

const headersArb = fc
  .subarray(Object.keys(CLIENT_HEADERS), { maxLength: 5 })
  .chain((names) =>
    fc.tuple(...names.map((name) => fc.constantFrom(...(CLIENT_HEADERS[name] as string[])).map((v) => [name, v]))),
  )
  .map((pairs) => pairs as [string, string][]);

export const callArbitrary: fc.Arbitrary<Call> = fc
  .record({
    protocol: fc.constantFrom<Protocol>(
      "connect",
      "connect-get",
      "connect-stream",
      "grpc",
      "grpc-web",
      "grpc-web-text",
    ),
    codec: fc.constantFrom<Codec>("proto", "json"),
    http: fc.constantFrom<"1.1" | "2">("1.1", "2"),
    kind: fc.constantFrom<Call["kind"]>("unary", "server-stream"),
    answer: answerArb,
    contentType: fc.oneof(
      { weight: 6, arbitrary: fc.constant<Call["contentType"]>("exact") },
      fc.constantFrom<Call["contentType"]>("upper", "charset", "charset-upper", "other-codec", "unknown", "none"),
    ),
    compression: fc.oneof(
      { weight: 4, arbitrary: fc.constant<Call["compression"]>("none") },
      fc.constantFrom<Call["compression"]>("identity", "gzip", "br", "gzip-uncompressed", "zstd"),
    ),
    headers: headersArb,
    body: fc.oneof(
      { weight: 6, arbitrary: fc.constant<Call["body"]>("valid") },
      fc.constantFrom<Call["body"]>(
        "truncated",
        "flag-compressed",
        "flag-end",
        "other-codec",
        "empty",
        "two-messages",
        "trailing",
      ),
    ),
    cut: fc.integer({ min: 1, max: 8 }),
  })
  .map((call) => ({
    ...call,
    // gRPC needs trailers, which HTTP/1.1 has not.
    http: call.protocol === "grpc" ? "2" : call.http,
    kind:
      call.protocol === "connect-stream" ? "server-stream" : call.protocol.startsWith("connect") ? "unary" : call.kind,
  }));

/** The bytes and head of a call, as both servers get them. */
export interface Wire {
  method: "POST" | "GET";
  /** Path and query. */
  path: string;
  headers: [string, string][];
  body: Buffer;
  http: "1.1" | "2";
}

const isEnveloped = (p: Protocol) => p !== "connect" && p !== "connect-get";

/** The method a call goes to: unary, idempotent unary (GET) or server stream. */
export function methodOf(call: Call): "Unary" | "IdempotentUnary" | "ServerStream" {
  if (call.protocol === "connect-get") return "IdempotentUnary";
  return call.kind === "server-stream" ? "ServerStream" : "Unary";
}

function headerList(pairs: [string, string][]): Header[] {
  return pairs.map(([name, value]) => create(HeaderSchema, { name, value: [value] }));
}

/** The request message, encoded with the call's codec (or the other one). */
function requestMessage(call: Call, codec: Codec): Buffer {
  const { answer } = call;
  const method = methodOf(call);
  const encode = <D extends DescMessage>(schema: D, message: MessageShape<D>) =>
    codec === "proto" ? Buffer.from(toBinary(schema, message)) : Buffer.from(toJsonString(schema, message));
  const headers = headerList(answer.headers);
  const trailers = headerList(answer.trailers);
  const data = answer.data.map((d) => Buffer.from(d));
  const error = answer.error && create(ErrorSchema, answer.error);
  if (method === "ServerStream") {
    const responseDefinition = create(StreamResponseDefinitionSchema, {
      responseHeaders: headers,
      responseTrailers: trailers,
      responseData: data,
      error,
    });
    return encode(ServerStreamRequestSchema, create(ServerStreamRequestSchema, { responseDefinition }));
  }
  const responseDefinition = create(UnaryResponseDefinitionSchema, {
    responseHeaders: headers,
    responseTrailers: trailers,
    response: error ? { case: "error", value: error } : { case: "responseData", value: data[0] ?? new Uint8Array() },
  });
  const schema = method === "IdempotentUnary" ? IdempotentUnaryRequestSchema : UnaryRequestSchema;
  return encode(schema, create(schema, { responseDefinition, requestData: Buffer.from("req") }));
}

function compress(bytes: Buffer, how: Call["compression"]): Buffer {
  if (how === "gzip") return gzipSync(bytes);
  if (how === "br") return brotliCompressSync(bytes);
  return bytes;
}

function envelope(flags: number, bytes: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** The content type as a client of this protocol writes it for this codec. */
function contentTypeOf(protocol: Protocol, codec: Codec): string {
  switch (protocol) {
    case "connect":
    case "connect-get":
      return `application/${codec}`;
    case "connect-stream":
      return `application/connect+${codec}`;
    case "grpc":
      return codec === "proto" ? "application/grpc" : "application/grpc+json";
    case "grpc-web":
      return `application/grpc-web+${codec}`;
    case "grpc-web-text":
      return codec === "proto" ? "application/grpc-web-text" : "application/grpc-web-text+json";
  }
}

function writtenContentType(call: Call): string | undefined {
  const exact = contentTypeOf(call.protocol, call.codec);
  switch (call.contentType) {
    case "exact":
      return exact;
    case "upper":
      return exact.toUpperCase();
    case "charset":
      return `${exact}; charset=utf-8`;
    case "charset-upper":
      return `${exact};Charset=UTF-8`;
    case "other-codec":
      return contentTypeOf(call.protocol, call.codec === "proto" ? "json" : "proto");
    case "unknown":
      return "application/xml";
    case "none":
      return undefined;
  }
}

/** The header that names a request body's compression in this protocol. */
function encodingHeader(protocol: Protocol): string {
  if (protocol === "connect") return "content-encoding";
  if (protocol === "connect-stream") return "connect-content-encoding";
  return "grpc-encoding";
}

/** The request body: the message (compressed as asked), framed for the protocol, then broken as asked. */
function bodyOf(call: Call): Buffer {
  const codec = call.body === "other-codec" ? (call.codec === "proto" ? "json" : "proto") : call.codec;
  const message = requestMessage(call, codec);
  const compressed = call.compression === "gzip" || call.compression === "br";
  const payload = compress(message, call.compression);
  if (call.body === "empty") return Buffer.alloc(0);
  let body: Buffer;
  if (!isEnveloped(call.protocol)) {
    body = payload;
  } else {
    let flags = compressed || call.compression === "gzip-uncompressed" ? 1 : 0;
    if (call.body === "flag-compressed") flags |= 1;
    if (call.body === "flag-end") flags |= call.protocol === "connect-stream" ? 2 : 0x80;
    body = envelope(flags, payload);
    if (call.body === "two-messages") body = Buffer.concat([body, body]);
  }
  if (call.body === "truncated") body = body.subarray(0, Math.max(0, body.length - call.cut));
  if (call.body === "trailing") body = Buffer.concat([body, Buffer.from([0, 0])]);
  return body;
}

/** The request both servers get for a call. */
export function toWire(call: Call): Wire {
  const method = methodOf(call);
  const path = `${SERVICE}/${method}`;
  const headers: [string, string][] = [];
  const contentType = writtenContentType(call);
  const body = bodyOf(call);
  if (call.protocol === "connect-get") {
    const query = new URLSearchParams();
    query.set(
      "encoding",
      call.contentType === "other-codec" ? (call.codec === "proto" ? "json" : "proto") : call.codec,
    );
    if (call.contentType === "unknown") query.set("encoding", "xml");
    if (call.codec === "proto" || call.compression === "gzip" || call.compression === "br") {
      query.set("base64", "1");
      query.set("message", body.toString("base64url"));
    } else {
      query.set("message", body.toString("latin1"));
    }
    if (call.compression !== "none") query.set("compression", call.compression.replace("-uncompressed", ""));
    const version = call.headers.find(([name]) => name === "connect-protocol-version");
    if (version === undefined) query.set("connect", "v1");
    else if (version[1] !== "") query.set("connect", `v${version[1]}`);
    const others = call.headers.filter(([name]) => name !== "connect-protocol-version");
    return { method: "GET", path: `${path}?${query}`, headers: others, body: Buffer.alloc(0), http: call.http };
  }
  if (contentType !== undefined) headers.push(["content-type", contentType]);
  if (call.compression !== "none") {
    headers.push([encodingHeader(call.protocol), call.compression.replace("-uncompressed", "")]);
  }
  if (call.protocol === "grpc" && !call.headers.some(([name]) => name === "te")) headers.push(["te", "trailers"]);
  headers.push(...call.headers.filter(([name]) => !headers.some(([taken]) => taken === name)));
  const wireBody = call.protocol === "grpc-web-text" ? Buffer.from(body.toString("base64")) : body;
  return { method: "POST", path, headers, body: wireBody, http: call.http };
}

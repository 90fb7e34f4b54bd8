import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { createRegistry, type DescMessage, fromBinary, type JsonValue, toJson } from "@bufbuild/protobuf";
import { BinaryReader, type WireType } from "@bufbuild/protobuf/wire";
import {
  ConformancePayload_RequestInfoSchema,
  IdempotentUnaryRequestSchema,
  IdempotentUnaryResponseSchema,
  ServerStreamRequestSchema,
  ServerStreamResponseSchema,
  UnaryRequestSchema,
  UnaryResponseSchema,
} from "../../src/gen/connectrpc/conformance/v1/service_pb.js";
import { type Call, methodOf, type Protocol } from "./calls.js";
import type { RawAnswer } from "./raw-exchange.js";

// An answer reduced to what must be the same on both paths: the status, the
// headers and trailers that carry meaning, and the body decoded (base64 of
// gRPC-Web text undone, each envelope decompressed and its message, error
// JSON, end-stream JSON or trailer frame read). What legitimately differs
// between two servers is masked here, in one list: VARYING.

/**
 * Headers that differ between two servers, or between two answers of one,
 * without meaning anything: the date; the HTTP/1.1 connection and framing
 * (one path knows a body's length up front and sends content-length, the
 * other streams it chunked). grpc-status-details-bin is not compared as
 * sent: it is decoded into `details`, the remaining deadline masked.
 */
const VARYING_HEADERS = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

/**
 * Values masked in decoded bodies: the remaining deadline the handler saw
 * (`timeoutMs`, a few ms apart on two servers), and each server's own
 * port, which a request's `host` header echoes.
 */
const VARYING = [
  { pattern: /"timeoutMs":"?\d+"?/g, mask: '"timeoutMs":"(set)"' },
  { pattern: /127\.0\.0\.1:\d+/g, mask: "127.0.0.1:(port)" },
];

export interface Comparable {
  status: number;
  failure?: string;
  headers: Record<string, JsonValue>;
  body: JsonValue;
}

// Anys in the echo: the requests as the handler received them.
const registry = createRegistry(
  ConformancePayload_RequestInfoSchema,
  UnaryRequestSchema,
  IdempotentUnaryRequestSchema,
  ServerStreamRequestSchema,
);
const REQUEST_INFO = ConformancePayload_RequestInfoSchema.typeName;

function decompress(bytes: Buffer, encoding: string | undefined): Buffer | { undecompressable: string } {
  try {
    if (encoding === "gzip") return gunzipSync(bytes);
    if (encoding === "br") return brotliDecompressSync(bytes);
    return bytes;
  } catch {
    return { undecompressable: bytes.toString("hex") };
  }
}

function decodeMessage(schema: DescMessage, bytes: Buffer, json: boolean): JsonValue {
  try {
    if (json) return JSON.parse(bytes.toString("utf8")) as JsonValue;
    return toJson(schema, fromBinary(schema, bytes), { registry });
  } catch (reason) {
    return { undecodable: bytes.toString(json ? "utf8" : "hex"), why: String(reason) };
  }
}

/** A detail of an error, as Connect's JSON or google.rpc.Status carries it: the request echo decoded. */
function decodeDetail(type: string, value: Buffer): JsonValue {
  if (type !== REQUEST_INFO) return { type, value: value.toString("hex") };
  return { type, value: decodeMessage(ConformancePayload_RequestInfoSchema, value, false) };
}

/** Connect's error JSON with each detail's value decoded; its `debug` (JSON with the handler's options) kept as sent. */
function decodeConnectError(json: JsonValue): JsonValue {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const details = json.details;
  if (!Array.isArray(details)) return json;
  return {
    ...json,
    details: details.map((detail) => {
      if (detail === null || typeof detail !== "object" || Array.isArray(detail)) return detail;
      const { type, value, ...rest } = detail;
      if (typeof type !== "string" || typeof value !== "string") return detail;
      const decoded = decodeDetail(type, Buffer.from(value, "base64"));
      return { ...(decoded as Record<string, JsonValue>), ...rest };
    }),
  };
}

/** google.rpc.Status from grpc-status-details-bin: code, message and details (Any: type URL, value). */
function decodeStatusDetails(base64: string): JsonValue {
  try {
    const reader = new BinaryReader(Buffer.from(base64, "base64"));
    const status: { code: number; message: string; details: JsonValue[] } = { code: 0, message: "", details: [] };
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1) status.code = reader.int32();
      else if (field === 2) status.message = reader.string();
      else if (field === 3) {
        const any = new BinaryReader(reader.bytes());
        let type = "";
        let value = Buffer.alloc(0);
        while (any.pos < any.len) {
          const [anyField, anyWire] = any.tag();
          if (anyField === 1) type = any.string();
          else if (anyField === 2) value = Buffer.from(any.bytes());
          else any.skip(anyWire);
        }
        status.details.push(decodeDetail(type.slice(type.lastIndexOf("/") + 1), value));
      } else reader.skip(wireType as WireType);
    }
    return status;
  } catch {
    return { undecodable: base64 };
  }
}

function responseSchema(call: Call): DescMessage {
  const method = methodOf(call);
  if (method === "ServerStream") return ServerStreamResponseSchema;
  return method === "IdempotentUnary" ? IdempotentUnaryResponseSchema : UnaryResponseSchema;
}

/** gRPC-Web text: each write is base64 of its own, padded, so the text is decoded piece by piece. */
function fromText(text: string): Buffer {
  return Buffer.concat(text.split(/(?<==)(?=[^=])/).map((piece) => Buffer.from(piece, "base64")));
}

function trailerLines(bytes: Buffer): JsonValue {
  const lines = bytes.toString("latin1").split("\r\n").filter(Boolean).sort();
  return lines.map((line) => {
    const [name, ...rest] = line.split(":");
    const value = rest.join(":").trim();
    return name?.toLowerCase() === "grpc-status-details-bin" ? { [name]: decodeStatusDetails(value) } : line;
  });
}

/** Envelopes in a body: each message, end-stream JSON or trailer frame decoded; a cut one as hex. */
function decodeEnvelopes(call: Call, body: Buffer, encoding: string | undefined, json: boolean): JsonValue {
  const out: JsonValue[] = [];
  let at = 0;
  while (at + 5 <= body.length) {
    const flags = body[at] as number;
    const length = body.readUInt32BE(at + 1);
    if (at + 5 + length > body.length) break;
    const raw = body.subarray(at + 5, at + 5 + length);
    at += 5 + length;
    const bytes = flags & 1 ? decompress(raw, encoding) : raw;
    if (!Buffer.isBuffer(bytes)) {
      out.push({ flags, ...bytes });
    } else if (flags & 0x80) {
      out.push({ flags, trailer: trailerLines(bytes) });
    } else if (flags & 2 && call.protocol === "connect-stream") {
      const end = decodeMessage(UnaryResponseSchema, bytes, true);
      const error = end !== null && typeof end === "object" && !Array.isArray(end) ? end.error : undefined;
      out.push({ flags, end: error === undefined ? end : { ...(end as object), error: decodeConnectError(error) } });
    } else {
      out.push({ flags, message: decodeMessage(responseSchema(call), bytes, json) });
    }
  }
  if (at < body.length) out.push({ partial: body.subarray(at).toString("hex") });
  return out;
}

const ENVELOPED: readonly Protocol[] = ["connect-stream", "grpc", "grpc-web", "grpc-web-text"];

/** The body decoded as what the answer's head says it is. */
function decodeBody(call: Call, raw: RawAnswer): JsonValue {
  const contentType = raw.headers["content-type"] ?? "";
  const json = /json/i.test(contentType);
  if (ENVELOPED.includes(call.protocol) && /^application\/(grpc|connect\+)/.test(contentType)) {
    const body = /^application\/grpc-web-text/.test(contentType) ? fromText(raw.body.toString("latin1")) : raw.body;
    const encoding =
      call.protocol === "connect-stream" ? raw.headers["connect-content-encoding"] : raw.headers["grpc-encoding"];
    return decodeEnvelopes(call, body, encoding, json);
  }
  const body = decompress(raw.body, raw.headers["content-encoding"]);
  if (!Buffer.isBuffer(body)) return body;
  if (raw.status !== 200 && json) return decodeConnectError(decodeMessage(UnaryResponseSchema, body, true));
  if (raw.status === 200 && /^application\/(proto|json)/.test(contentType)) {
    return decodeMessage(responseSchema(call), body, json);
  }
  return { text: body.toString("latin1") };
}

function comparableHeaders(raw: RawAnswer): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  const add = (prefix: string, headers: Record<string, string>) => {
    for (const name of Object.keys(headers).sort()) {
      if (VARYING_HEADERS.has(name)) continue;
      const value = headers[name] as string;
      out[prefix + name] = name === "grpc-status-details-bin" ? decodeStatusDetails(value) : value;
    }
  };
  add("", raw.headers);
  add("trailer ", raw.trailers);
  return out;
}

function mask(value: Comparable): Comparable {
  let text = JSON.stringify(value);
  for (const { pattern, mask } of VARYING) text = text.replace(pattern, mask);
  return JSON.parse(text) as Comparable;
}

/** What of an answer must be the same on both paths, decoded and masked. */
export function comparable(call: Call, raw: RawAnswer): Comparable {
  return mask({
    status: raw.status,
    ...(raw.failure === undefined ? {} : { failure: raw.failure }),
    headers: comparableHeaders(raw),
    body: decodeBody(call, raw),
  });
}

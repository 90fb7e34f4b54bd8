import {
  type BinaryReadOptions,
  type DescMessage,
  fromBinary,
  fromJsonString,
  type JsonReadOptions,
  type JsonWriteOptions,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  endStreamFlag,
  endStreamToJson,
  setTrailerStatus,
  trailerFlag,
  trailerSerialize,
} from "../connect-internals.js";
import { compressIfWorth, type ResponseEncoding } from "./response-compression.js";
import { strictUtf8 } from "./strict-utf8.js";

// Length-prefixed message envelopes, as gRPC, gRPC-Web and Connect streams
// frame messages: a flags byte, a 4-byte length, the bytes.

/** gRPC (HTTP/2) content types. */
export const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?$/;
/** Binary gRPC-Web content types (the text mode is grpc-web-text/). */
export const GRPC_WEB_CONTENT_TYPE = /^application\/grpc-web(\+proto)?$/;

/** How to read the one message of a request body. */
export interface SingleEnvelopeOptions {
  /** Largest message, as connect-node's `readMaxBytes`. */
  readMaxBytes?: number;
  methodKind?: "unary" | "server-streaming";
  /** The message is JSON (Connect's `+json` streams), not binary protobuf. */
  json?: boolean;
  jsonOptions?: Partial<JsonReadOptions>;
  binaryOptions?: Partial<BinaryReadOptions>;
  /**
   * The protocol's end flag (Connect's 0x02, gRPC-Web's 0x80), if it has
   * one: connect-node skips a request envelope that carries it, unread, so
   * it is no message, neither the first nor an extra one. gRPC has none.
   */
  endFlag?: number;
}

/**
 * The one message of a request body that must hold exactly one envelope,
 * uncompressed (compressed calls are left to connect-node): the message, or
 * the error connect-node answers for the same body, in the order it finds
 * them: a declared length over the limit, a cut envelope, a compressed flag
 * or an unreadable message, then a second message.
 */
export function parseSingleEnvelope(
  received: Buffer,
  schema: DescMessage,
  options: SingleEnvelopeOptions = {},
): unknown {
  const { readMaxBytes = 0xffffffff, methodKind = "unary", json = false, endFlag } = options;
  const body = endFlag === undefined ? received : withoutEndEnvelopes(received, endFlag);
  if (body.length === 0) {
    return new ConnectError(`protocol error: missing input message for ${methodKind} method`, Code.Unimplemented);
  }
  const first = nextEnvelope(body, 0, readMaxBytes);
  if (first instanceof ConnectError) return first;
  const second = first.end < body.length ? nextEnvelope(body, first.end, readMaxBytes) : undefined;
  if (second instanceof ConnectError && second.code === Code.ResourceExhausted) return second;
  if ((body[0] ?? 0) & 0b01) {
    return new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
  }
  let message: unknown;
  const payload = body.subarray(5, first.end);
  try {
    message = json
      ? fromJsonString(schema, strictUtf8(payload), options.jsonOptions)
      : fromBinary(schema, payload, options.binaryOptions);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return json
      ? ConnectError.from(e, Code.InvalidArgument)
      : new ConnectError(`parse binary: ${reason}`, Code.Internal);
  }
  if (second instanceof ConnectError) return second;
  if (second) {
    return new ConnectError(
      `protocol error: received extra input message for ${methodKind} method`,
      Code.Unimplemented,
    );
  }
  return message;
}

/**
 * The body without its whole, uncompressed envelopes that carry the end
 * flag (connect-node skips them; a compressed one it fails to decompress
 * first, as the checks after this do). The same body when there is none.
 */
function withoutEndEnvelopes(body: Buffer, endFlag: number): Buffer {
  const kept: Buffer[] = [];
  let offset = 0;
  let skipped = false;
  while (body.length - offset >= 5) {
    const end = offset + 5 + body.readUInt32BE(offset + 1);
    if (end > body.length) break;
    const flags = body[offset] as number;
    if ((flags & endFlag) === endFlag && (flags & 1) === 0) skipped = true;
    else kept.push(body.subarray(offset, end));
    offset = end;
  }
  if (!skipped) return body;
  kept.push(body.subarray(offset));
  return Buffer.concat(kept);
}

/** The envelope at `offset`: where it ends, or why it cannot be read. */
function nextEnvelope(body: Buffer, offset: number, readMaxBytes: number): { end: number } | ConnectError {
  if (body.length - offset < 5) return incompleteEnvelope();
  const length = body.readUInt32BE(offset + 1);
  if (length > readMaxBytes) return messageTooLarge(length, readMaxBytes);
  if (body.length - offset - 5 < length) return incompleteEnvelope();
  return { end: offset + 5 + length };
}

const incompleteEnvelope = (): ConnectError =>
  new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);

/** RESOURCE_EXHAUSTED for an envelope that declares a message over the limit, in connect-node's words. */
export function messageTooLarge(length: number, readMaxBytes: number): ConnectError {
  return new ConnectError(
    `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
    Code.ResourceExhausted,
  );
}

/**
 * Puts a failed call's status into its trailer: code, message, details and
 * the error's metadata, without its protocol headers and none of a wire
 * error's (connect's `setTrailerStatus` leaves them out, as connect-node
 * does since 2.2.0; apps/server/test/fast-path-parity-edges.test.ts holds
 * both paths to it). gRPC-Web's message is encoded as connect-node
 * encodes it (its clients decode either way); gRPC's as the gRPC spec says,
 * because grpc-js decodes it with decodeURI, which leaves connect-es's "%3A"
 * and the like in the text (the server re-encodes connect-node's gRPC
 * trailers the same way, so both paths send the same bytes).
 */
export function setErrorTrailer(trailer: Headers, error: ConnectError, web: boolean): Headers {
  setTrailerStatus(trailer, error);
  if (!web) trailer.set("grpc-message", encodeGrpcMessage(error.rawMessage));
  return trailer;
}

/**
 * grpc-message as the gRPC spec encodes it: only bytes outside printable
 * ASCII, and "%", are percent-encoded. connect-es encodes like
 * encodeURIComponent, and grpc-js, which decodes with decodeURI, then shows
 * a ":" in a message as "%3A". Spaces at either end are encoded too: an
 * HTTP/2 field value may not begin or end with one (RFC 9113 §8.2.1), and
 * Node's client drops such a field, so the message went missing.
 */
export function encodeGrpcMessage(message: string): string {
  const encoded = /^[\x20-\x24\x26-\x7e]*$/.test(message)
    ? message
    : message.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) => encodeURIComponent(run));
  return encoded.charCodeAt(0) === 32 || encoded.charCodeAt(encoded.length - 1) === 32
    ? encoded.replace(/^ +| +$/g, (spaces) => "%20".repeat(spaces.length))
    : encoded;
}

/** A message as one gRPC envelope: flags (1 = compressed), length, bytes. */
export function envelope(bytes: Uint8Array, compressed: boolean): Buffer {
  // allocUnsafe takes small frames from Node's shared pool: no allocation per message.
  const frame = Buffer.allocUnsafe(5 + bytes.byteLength);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(bytes.byteLength, 1);
  frame.set(bytes, 5);
  return frame;
}

/**
 * gRPC-Web's last frame: the status and trailers, in the body because
 * HTTP/1.1 has no trailers a browser can read. Compressed as a message is
 * (connect-node compresses every envelope it sends, this one too), when an
 * encoding was negotiated and it is at least `minBytes` long.
 */
export function trailerFrame(trailer: Headers, encoding?: ResponseEncoding, minBytes = 0): Buffer {
  return lastFrame(trailerSerialize(trailer), trailerFlag, encoding, minBytes);
}

/** A last frame (`flag` set), compressed as a message would be. */
function lastFrame(bytes: Uint8Array, flag: number, encoding: ResponseEncoding | undefined, minBytes: number): Buffer {
  const out = compressIfWorth(bytes, encoding, minBytes);
  const compressed = out.encoding !== undefined;
  const frame = envelope(out.bytes, compressed);
  frame[0] = flag | (compressed ? 1 : 0);
  return frame;
}

/**
 * Connect's last frame of a stream: the error, if any, and the trailers, as
 * JSON, compressed as a message would be; `endStreamToJson` leaves out the error metadata's protocol headers
 * (all of it for a wire error), as connect-node does.
 */
export function endStreamFrame(
  trailer: Headers,
  error: ConnectError | undefined,
  jsonOptions: Partial<JsonWriteOptions> | undefined,
  encoding?: ResponseEncoding,
  minBytes = 0,
): Buffer {
  const json = Buffer.from(JSON.stringify(endStreamToJson(trailer, error, jsonOptions)));
  return lastFrame(json, endStreamFlag, encoding, minBytes);
}

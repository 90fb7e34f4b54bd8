import { type DescMessage, fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { endStreamFlag, endStreamToJson } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

// Length-prefixed message envelopes, as gRPC, gRPC-Web and Connect streams
// frame messages: a flags byte, a 4-byte length, the bytes.

/** gRPC (HTTP/2) content types. */
export const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?$/;
/** Binary gRPC-Web content types (the text mode is grpc-web-text/). */
export const GRPC_WEB_CONTENT_TYPE = /^application\/grpc-web(\+proto)?$/;

/**
 * The one message of a request body that must hold exactly one envelope,
 * uncompressed (compressed calls are left to connect-node): the message, or
 * the error connect-node answers for the same body.
 */
export function parseSingleEnvelope(
  body: Buffer,
  schema: DescMessage,
  methodKind: "unary" | "server-streaming" = "unary",
  json = false,
): unknown {
  if (body.length < 5) return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  if (body.length > 5 + length) {
    return new ConnectError(`protocol error: received extra message for ${methodKind} method`, Code.InvalidArgument);
  }
  if ((body[0] ?? 0) & 0b01) {
    return new ConnectError("protocol error: received compressed message without compression", Code.Internal);
  }
  const payload = body.subarray(5);
  try {
    return json ? fromJsonString(schema, payload.toString("utf8")) : fromBinary(schema, payload);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return json
      ? new ConnectError(`cannot decode message ${schema.typeName} from JSON: ${reason}`, Code.InvalidArgument)
      : new ConnectError(`parse binary: ${reason}`, Code.Internal);
  }
}

/** Puts a failed call's status into its trailer: code, message, details and the error's metadata. */
export function setErrorTrailer(trailer: Headers, error: ConnectError): Headers {
  setTrailerStatus(trailer, error);
  trailer.set("grpc-message", encodeGrpcMessage(error.rawMessage));
  return trailer;
}

/**
 * grpc-message as the gRPC spec encodes it: only bytes outside printable
 * ASCII, and "%", are percent-encoded. connect-es encodes like
 * encodeURIComponent, and grpc-js, which decodes with decodeURI, then shows
 * a ":" in a message as "%3A".
 */
export function encodeGrpcMessage(message: string): string {
  return /^[\x20-\x24\x26-\x7e]*$/.test(message)
    ? message
    : message.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) => encodeURIComponent(run));
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

/** gRPC-Web's last frame: the status and trailers, in the body because HTTP/1.1 has no trailers a browser can read. */
export function trailerFrame(trailer: Headers): Buffer {
  const bytes = trailerSerialize(trailer);
  const frame = envelope(bytes, false);
  frame[0] = trailerFlag;
  return frame;
}

/** Connect's last frame of a stream: the error, if any, and the trailers, as JSON. */
export function endStreamFrame(trailer: Headers, error: ConnectError | undefined): Buffer {
  const frame = envelope(Buffer.from(JSON.stringify(endStreamToJson(trailer, error, undefined))), false);
  frame[0] = endStreamFlag;
  return frame;
}

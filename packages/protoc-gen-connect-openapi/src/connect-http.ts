import type { JsonSchema } from "./json.js";

/**
 * The Connect protocol's HTTP side of a unary call, as the OpenAPI document
 * describes it: https://connectrpc.com/docs/protocol/
 */

/** Each Connect error code and the HTTP status a Connect server answers it with. */
export const CONNECT_ERROR_STATUSES: Readonly<Record<string, number>> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

/** The error codes answered with `status`, e.g. 400 → invalid_argument, failed_precondition, out_of_range. */
export function codesForStatus(status: number): string[] {
  return Object.entries(CONNECT_ERROR_STATUSES)
    .filter(([, s]) => s === status)
    .map(([code]) => code);
}

/** Every HTTP status a Connect error can have, in ascending order. */
export const ERROR_STATUSES: readonly number[] = [...new Set(Object.values(CONNECT_ERROR_STATUSES))].sort(
  (a, b) => a - b,
);

export const CONNECT_ERROR_SCHEMA_NAME = "connect.error";

/** The JSON body of every Connect error response. */
export const connectErrorSchema: JsonSchema = {
  type: "object",
  description: "A Connect error: the body of every unsuccessful unary call.",
  properties: {
    code: {
      type: "string",
      enum: Object.keys(CONNECT_ERROR_STATUSES),
      description: "The gRPC status code, in snake case.",
    },
    message: {
      type: "string",
      description: "What went wrong, for a person to read.",
    },
    details: {
      type: "array",
      description: "Typed details (e.g. google.rpc.BadRequest), each a Protobuf message.",
      items: {
        type: "object",
        properties: {
          type: { type: "string", description: 'The message\'s full name, e.g. "google.rpc.BadRequest".' },
          value: {
            type: "string",
            contentEncoding: "base64",
            description: "The message in the Protobuf binary format, base64-encoded (unpadded).",
          },
          debug: { description: "The message in the Protobuf JSON format, if the server adds it." },
        },
        required: ["type", "value"],
      },
    },
  },
  required: ["code"],
};

/** Request headers every Connect unary call may send; both optional. */
export const connectHeaderParameters = {
  "connect-protocol-version": {
    name: "Connect-Protocol-Version",
    in: "header",
    required: false,
    description: "The Connect protocol version. Servers may require it to tell Connect calls from other traffic.",
    schema: { type: "string", const: "1" },
  },
  "connect-timeout-ms": {
    name: "Connect-Timeout-Ms",
    in: "header",
    required: false,
    description:
      "The call's deadline in milliseconds, 1 to 10 digits (the protocol's limit). The server answers deadline_exceeded once it passes; a deadline over 2147483647 (about 24.8 days, the longest timer Node.js keeps) is served as that.",
    // What the server's parser takes: Connect's 1 to 10 digits, a longer
    // deadline clamped rather than refused (as grpc-go clamps it).
    schema: { type: "string", pattern: "^[0-9]{1,10}$" },
  },
} satisfies Record<string, JsonSchema>;

/** Query parameters of a Connect GET call besides `message`. */
export const connectGetParameters = {
  encoding: {
    name: "encoding",
    in: "query",
    required: true,
    description: "The codec of `message`: json here.",
    // An enum with a default rather than a const, so docs pages fill it in.
    schema: { type: "string", enum: ["json"], default: "json" },
  },
  connect: {
    name: "connect",
    in: "query",
    required: false,
    description: "The Connect protocol version, like the Connect-Protocol-Version header of POST calls.",
    schema: { type: "string", enum: ["v1"], default: "v1" },
  },
  base64: {
    name: "base64",
    in: "query",
    required: false,
    description:
      "1 when `message` is base64url-encoded rather than URL-encoded JSON; any other value, or none, means it is not.",
    // Not a const: a Connect server reads only "1" and takes anything else as "not base64".
    schema: { type: "string", examples: ["1"] },
  },
} satisfies Record<string, JsonSchema>;

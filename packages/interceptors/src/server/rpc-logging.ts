import type { DescMethod } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import {
  Code,
  type ConnectError,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
} from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { callNext } from "../call-next.js";
import { grpcType } from "../grpc-type.js";
import { observeStream } from "../stream-observer.js";
import { authSubjectKey } from "./auth.js";
import { callInfoKey, protocolOf } from "./call-info.js";
import { callOutcome } from "./call-outcome.js";
import { publicError } from "./public-error.js";
import { requestIdKey } from "./request-id.js";

/**
 * The slice of a pino logger (Fastify's `app.log`) this interceptor writes
 * to. It may keep the fields object and read it later (the server's writer
 * makes the line's text when its batch is written): each call gets a new one.
 */
export interface RpcLogger {
  debug(fields: RpcLogFields, message: string): void;
  info(fields: RpcLogFields, message: string): void;
  warn(fields: RpcLogFields, message: string): void;
  error(fields: RpcLogFields, message: string): void;
  /**
   * Whether a line at this level would be written (pino's own method). With
   * it, a call whose line would be dropped (every successful one under
   * LOG_LEVEL=warn) costs no line at all; without it, every line is made.
   */
  isLevelEnabled?(level: RpcLogLevel): boolean;
}

export type RpcLogLevel = "debug" | "info" | "warn" | "error";

export interface RpcLoggingOptions {
  logger: RpcLogger;
  /**
   * Procedures logged at debug level only, because balancers and probes call
   * them all the time.
   * @default the gRPC health service's Check and Watch
   */
  quietProcedures?: readonly string[];
}

/**
 * The fields of an RPC's log line. The client's are those of
 * createClientMetadataInterceptor's headers, and its user-agent.
 */
export interface RpcLogFields {
  procedure: string;
  streamType: string;
  protocol: string;
  peer: string | undefined;
  requestId: string | undefined;
  subject: string | undefined;
  clientName: string | undefined;
  clientVersion: string | undefined;
  clientDevice: string | undefined;
  clientOs: string | undefined;
  userAgent: string | undefined;
  /** The gRPC status in Connect's spelling, e.g. "ok", "invalid_argument". */
  code: string;
  durationMs: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** The error message the client got. */
  error: string | undefined;
  /** What the handler threw, with its stack: for the log only. */
  err: Error | undefined;
}

interface MethodLogInfo {
  procedure: string;
  streamType: string;
  quiet: boolean;
}

const QUIET_BY_DEFAULT = ["/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"];

// Failures the server must look into; the rest are the caller's business.
const SERVER_FAULTS = new Set([Code.Unknown, Code.Internal, Code.Unimplemented, Code.Unavailable, Code.DataLoss]);

/**
 * One structured log line per RPC, when it ends: procedure, stream type,
 * protocol, peer, request id, client metadata, status, duration, messages
 * and bytes each way. Authorization headers are never read.
 *
 * It is also where a handler's unexpected exception stops: the log gets the
 * exception with its stack; the client gets INTERNAL "internal error" and
 * nothing of what went wrong inside. A call ended from outside (the
 * client's cancel or disconnect, its deadline) is logged with that code, at
 * warn, whatever the handler made of it afterwards (see callOutcome).
 */
export function createRpcLoggingInterceptor(options: RpcLoggingOptions): Interceptor {
  const { logger } = options;
  const quiet = new Set(options.quietProcedures ?? QUIET_BY_DEFAULT);
  // Worked out once per method: a procedure name built per call is a new
  // string to hash for the quiet check and to flatten for the line.
  const byMethod = new Map<DescMethod, MethodLogInfo>();
  const methodInfo = (req: UnaryRequest | StreamRequest): MethodLogInfo => {
    let m = byMethod.get(req.method);
    if (!m) {
      const procedure = `/${req.service.typeName}/${req.method.name}`;
      m = { procedure, streamType: grpcType(req), quiet: quiet.has(procedure) };
      byMethod.set(req.method, m);
    }
    return m;
  };

  // The unary path with promise callbacks, not as an async function: see callNext.
  return (next) => (req) => {
    const started = performance.now();
    const { procedure, streamType, quiet: isQuiet } = methodInfo(req);
    const info = req.contextValues.get(callInfoKey);
    const input = req.method.input;
    const output = req.method.output;
    let messagesIn = 0;
    let messagesOut = 0;
    let bytesIn = 0;
    let bytesOut = 0;

    const done = (ended: ConnectError | undefined): void => {
      const error = callOutcome(req, ended, info);
      const level: RpcLogLevel = isQuiet ? "debug" : !error ? "info" : SERVER_FAULTS.has(error.code) ? "error" : "warn";
      if (logger.isLevelEnabled && !logger.isLevelEnabled(level)) return;
      const { header } = req;
      const fields: RpcLogFields = {
        procedure,
        streamType,
        protocol: protocolOf(req),
        peer: info?.peer,
        requestId: req.contextValues.get(requestIdKey) || undefined,
        subject: req.contextValues.get(authSubjectKey),
        // Flat fields, not a nested object: pino writes a nested object
        // with a general-purpose serializer, which cost more than the whole
        // rest of the line. pino leaves out the ones that are undefined.
        clientName: header.get("x-client-name") ?? undefined,
        clientVersion: header.get("x-client-version") ?? undefined,
        clientDevice: header.get("x-client-device") ?? undefined,
        clientOs: header.get("x-client-os") ?? undefined,
        userAgent: header.get("user-agent") ?? undefined,
        code: error ? codeToString(error.code) : "ok",
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        messagesIn,
        messagesOut,
        bytesIn: info?.bytesIn ?? bytesIn,
        bytesOut: info?.bytesOut ?? bytesOut,
        error: error?.rawMessage,
        err: error?.cause instanceof Error ? error.cause : undefined,
      };
      logger[level](fields, error && !isQuiet ? "rpc failed" : "rpc");
    };

    if (!req.stream) {
      messagesIn = 1;
      if (info?.bytesIn === undefined) bytesIn = toBinary(input, req.message).byteLength;
      return callNext(next, req).then(
        (res) => {
          messagesOut = 1;
          if (info?.bytesOut === undefined && !res.stream) bytesOut = toBinary(output, res.message).byteLength;
          done(undefined);
          return res;
        },
        (e: unknown) => {
          const error = publicError(e);
          done(error);
          throw error;
        },
      );
    }
    const streamReq = req;
    return (async (): Promise<StreamResponse> => {
      let res: StreamResponse;
      try {
        res = (await next({
          ...streamReq,
          message: observeStream(streamReq.message, publicError, (m) => {
            messagesIn++;
            // Serialized again only if the adapter did not count the bytes.
            if (info?.bytesIn === undefined) bytesIn += toBinary(input, m).byteLength;
          }),
        })) as StreamResponse;
      } catch (e) {
        const error = publicError(e);
        done(error);
        throw error;
      }
      return {
        ...res,
        message: observeStream(
          res.message,
          publicError,
          (m) => {
            messagesOut++;
            if (info?.bytesOut === undefined) bytesOut += toBinary(output, m).byteLength;
          },
          done,
        ),
      };
    })();
  };
}

import type { DescMethod } from "@bufbuild/protobuf";
import type { ConnectError, Interceptor, StreamRequest, StreamResponse, UnaryRequest } from "@connectrpc/connect";
import type { Attributes, Histogram, Meter } from "@opentelemetry/api";
import { callNext } from "../call-next.js";
import { fullMethodName, type RpcSystem, rpcEndAttributes, rpcSystemOf } from "../rpc-conventions.js";
import { emitsOld, emitsStable, type RpcSemconv } from "../semconv-mode.js";
import { observeStream } from "../stream-observer.js";
import { protocolOf } from "./call-info.js";
import { callOutcome } from "./call-outcome.js";
import { publicError } from "./public-error.js";

export interface RpcCallDurationOptions {
  /** Where the histograms are made (the server's OTLP meter provider). */
  meter: Meter;
  /**
   * Which conventions' histogram to record: `old` → `rpc.server.duration`
   * (ms), `stable` → `rpc.server.call.duration` (s), `dup` → both.
   * @default "old"
   */
  semconv?: RpcSemconv;
}

/** `rpc.server.call.duration`'s bucket boundaries in seconds, as rpc-metrics.md advises. */
export const RPC_CALL_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The attribute sets of one method, system and code: made once, recorded with many times. */
interface OutcomeAttributes {
  old: Attributes;
  stable: Attributes;
}

/**
 * The OpenTelemetry RPC server duration histogram, one measurement per
 * call, from the first interceptor step to the end of the answer (a
 * stream's last message). Stable: `rpc.server.call.duration` in seconds
 * with the advised buckets, by `rpc.system.name`, `rpc.method`,
 * `rpc.status_code` and `error.type` (the server's own errors only, see
 * isRpcError). Old (v1.37.0): `rpc.server.duration` in milliseconds, by
 * `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`,
 * with the SDK's default buckets (that version advised none).
 * A call ended from outside is recorded with that reason, as the
 * Prometheus metrics do (callOutcome).
 */
export function createRpcCallDurationInterceptor(options: RpcCallDurationOptions): Interceptor {
  const semconv = options.semconv ?? "old";
  const { meter } = options;
  const stable: Histogram | undefined = emitsStable(semconv)
    ? meter.createHistogram("rpc.server.call.duration", {
        unit: "s",
        description: "Measures the duration of an incoming Remote Procedure Call (RPC).",
        advice: { explicitBucketBoundaries: [...RPC_CALL_DURATION_BUCKETS] },
      })
    : undefined;
  const old: Histogram | undefined = emitsOld(semconv)
    ? meter.createHistogram("rpc.server.duration", { unit: "ms", description: "Measures the duration of inbound RPC." })
    : undefined;

  const byMethod = new Map<DescMethod, Map<RpcSystem, Map<number, OutcomeAttributes>>>();
  const attributesOf = (req: UnaryRequest | StreamRequest, system: RpcSystem, code: number): OutcomeAttributes => {
    let bySystem = byMethod.get(req.method);
    if (!bySystem) {
      bySystem = new Map();
      byMethod.set(req.method, bySystem);
    }
    let byCode = bySystem.get(system);
    if (!byCode) {
      byCode = new Map();
      bySystem.set(system, byCode);
    }
    let sets = byCode.get(code);
    if (!sets) {
      sets = {
        old: {
          "rpc.system": system.old,
          "rpc.service": req.service.typeName,
          "rpc.method": req.method.name,
          ...rpcEndAttributes(system, "old", "server", code),
        },
        stable: {
          "rpc.system.name": system.stable,
          "rpc.method": fullMethodName(req),
          ...rpcEndAttributes(system, "stable", "server", code),
        },
      };
      byCode.set(code, sets);
    }
    return sets;
  };

  const record = (req: UnaryRequest | StreamRequest, begun: number, ended: ConnectError | undefined): void => {
    const ms = performance.now() - begun;
    const code = callOutcome(req, ended)?.code ?? 0;
    const sets = attributesOf(req, rpcSystemOf(protocolOf(req)), code);
    stable?.record(ms / 1000, sets.stable);
    old?.record(ms, sets.old);
  };

  const streamCall = async (
    next: Parameters<Interceptor>[0],
    req: StreamRequest,
    begun: number,
  ): Promise<StreamResponse> => {
    let res: StreamResponse;
    try {
      res = (await next(req)) as StreamResponse;
    } catch (e) {
      record(req, begun, publicError(e));
      throw e;
    }
    return { ...res, message: observeStream(res.message, publicError, noop, (error) => record(req, begun, error)) };
  };

  // The unary path with promise callbacks, not as an async function: see callNext.
  return (next) => (req) => {
    const begun = performance.now();
    if (req.stream) return streamCall(next, req, begun);
    return callNext(next, req).then(
      (res) => {
        record(req, begun, undefined);
        return res;
      },
      (e: unknown) => {
        record(req, begun, publicError(e));
        throw e;
      },
    );
  };
}

function noop(): void {}

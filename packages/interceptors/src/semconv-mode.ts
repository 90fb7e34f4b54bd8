/**
 * Which OpenTelemetry RPC conventions our spans and metrics follow, from
 * `OTEL_SEMCONV_STABILITY_OPT_IN`, as the conventions' migration rules ask
 * of an instrumentation that emitted the experimental ones (v1.37.0 and
 * before) and keeps doing so by default:
 *
 * - `old`: the experimental conventions, as Greeter always emitted them
 *   (`rpc.system`, `rpc.service`, a short `rpc.method`, an integer
 *   `rpc.grpc.status_code`, `rpc.server.duration` in ms);
 * - `stable`: only the stable ones (semconv 1.45: `rpc.system.name`, a
 *   fully-qualified `rpc.method`, a string `rpc.status_code`, `error.type`,
 *   `rpc.server.call.duration` in s);
 * - `dup`: both, for a phased rollout. Where both use one key
 *   (`rpc.method` on a span), the stable value is emitted.
 */
export type RpcSemconv = "old" | "stable" | "dup";

/** The environment variable the conventions define for the opt-in. */
export const SEMCONV_OPT_IN_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN";

/**
 * The RPC conventions an `OTEL_SEMCONV_STABILITY_OPT_IN` value selects: a
 * comma-separated list of categories (`http`, `database`, `rpc`, …), of
 * which only `rpc` and `rpc/dup` concern RPC; `rpc/dup` wins when both
 * are listed. Anything else, or nothing, is `old`. Never throws: other
 * categories belong to other instrumentations in the same process.
 */
export function rpcSemconvFromOptIn(value: string | undefined): RpcSemconv {
  const categories = new Set((value ?? "").split(",").map((c) => c.trim().toLowerCase()));
  if (categories.has("rpc/dup")) return "dup";
  if (categories.has("rpc")) return "stable";
  return "old";
}

/** Whether `semconv` emits the experimental (pre-1.38) conventions. */
export function emitsOld(semconv: RpcSemconv): boolean {
  return semconv !== "stable";
}

/** Whether `semconv` emits the stable conventions. */
export function emitsStable(semconv: RpcSemconv): boolean {
  return semconv !== "old";
}

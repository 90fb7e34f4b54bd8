import type { DescMethodServerStreaming, DescMethodUnary } from "@bufbuild/protobuf";
import type { FastRequest } from "../wire/exchange.js";
import type { CallLimits } from "./limits.js";
import { createServerStreamInvoker, type ServerStreamInvoker, type ServerStreamRoute } from "./server-stream-chain.js";
import { createUnaryInvoker, type UnaryInvoker, type UnaryRoute } from "./unary-chain.js";

export type { UnaryRoute } from "./unary-chain.js";

/** A unary method ready for the fast path: its implementation behind the interceptors. */
export interface PreparedRoute {
  method: DescMethodUnary;
  invoke: UnaryInvoker;
}

export function routesByPath(
  routes: readonly UnaryRoute[],
  { interceptors, callInfoKey }: Pick<CallLimits, "interceptors" | "callInfoKey">,
): Map<string, PreparedRoute> {
  return new Map(
    routes.map((r) => [
      `/${r.method.parent.typeName}/${r.method.name}`,
      { method: r.method, invoke: createUnaryInvoker(r, interceptors, callInfoKey) },
    ]),
  );
}

/** A server-streaming method ready for the fast path: its implementation behind the interceptors. */
export interface PreparedStreamRoute {
  method: DescMethodServerStreaming;
  invoke: ServerStreamInvoker;
}

export function streamRoutesByPath(
  routes: readonly ServerStreamRoute[],
  { interceptors, callInfoKey }: Pick<CallLimits, "interceptors" | "callInfoKey">,
): Map<string, PreparedStreamRoute> {
  return new Map(
    routes.map((r) => [
      `/${r.method.parent.typeName}/${r.method.name}`,
      { method: r.method, invoke: createServerStreamInvoker(r, interceptors, callInfoKey) },
    ]),
  );
}

/** The route a POST asks for, if it has no body encoding (compressed calls stay with connect-node). */
export function plainPostRoute<R>(
  byPath: ReadonlyMap<string, R>,
  req: FastRequest,
  encodingHeader: "grpc-encoding" | "content-encoding" | "connect-content-encoding",
): R | undefined {
  if (req.method !== "POST") return undefined;
  const encoding = req.headers[encodingHeader];
  if (encoding !== undefined && encoding !== "identity") return undefined;
  return byPath.get(req.url ?? "");
}

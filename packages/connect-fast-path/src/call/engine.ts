import type { FastRequest, FastResponse } from "../wire/exchange.js";
import { InflightCalls } from "./context.js";
import type { CallLimits } from "./limits.js";
import {
  type PreparedRoute,
  type PreparedStreamRoute,
  routesByPath,
  streamRoutesByPath,
  type UnaryRoute,
} from "./routes.js";
import type { ServerStreamRoute } from "./server-stream-chain.js";

/**
 * What every protocol's code runs its calls with: each method behind the
 * interceptors, by request path; the limits; the calls in flight. Made once
 * per fast path and shared by the three protocols.
 */
export interface CallEngine {
  readonly limits: CallLimits;
  readonly inflight: InflightCalls;
  readonly unary: ReadonlyMap<string, PreparedRoute>;
  readonly serverStreaming: ReadonlyMap<string, PreparedStreamRoute>;
}

/** The methods the engine runs, as `routes` registered them. */
export interface EngineRoutes {
  unary: readonly UnaryRoute[];
  serverStreaming: readonly ServerStreamRoute[];
}

export function createCallEngine(routes: EngineRoutes, limits: CallLimits): CallEngine {
  return {
    limits,
    inflight: new InflightCalls(limits.shutdownSignal),
    unary: routesByPath(routes.unary, limits),
    serverStreaming: streamRoutesByPath(routes.serverStreaming, limits),
  };
}

/**
 * One protocol's calls, unary and server-streaming: what each
 * `protocol-*` folder makes from a {@link CallEngine}.
 */
export interface ProtocolHandler {
  /**
   * Answers the request if it is a call of this protocol that the fast path
   * serves, and returns true; returns false, having touched nothing, for
   * anything else.
   */
  handle(req: FastRequest, res: FastResponse): boolean;
}

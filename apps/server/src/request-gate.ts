import { chainGates, createAuthGate, createRateLimitGate, type RequestGate } from "@greeter/interceptors/server";
import type { Registry } from "prom-client";
import { accessPolicy } from "./access-policy.js";
import type { ServerConfig } from "./config.js";
import { registerRateLimitMetrics } from "./metrics.js";
import type { TokenVerifier } from "./token-verifier.js";

export interface RequestGateDeps {
  registry: Registry;
  /** The auth step's token check (token-verifier.ts: made, and its keys fetched, before the server listens). */
  verifyToken: TokenVerifier;
}

/**
 * The router's request gate, on both paths (connect-node's and the fast
 * path's): the steps of INTERCEPTORS that refuse a call on its headers
 * alone, run before a byte of its body is read, so that a client without a
 * valid token, or over its rate, cannot make the server read, decompress or
 * parse what it sends. The rate limit comes first, so that a flood costs no
 * signature checks; auth next. A call the gate refuses never reaches the
 * interceptors: it is counted in `greeter_rpc_refused_total`, logged (at
 * most a few lines a second) and answered with an `x-request-id`, as every
 * early refusal is. None if neither step is on.
 */
export function createRequestGate(config: ServerConfig, deps: RequestGateDeps): RequestGate | undefined {
  const gates: RequestGate[] = [];
  if (config.interceptors.includes("rate-limit") && config.rateLimitPerSecond > 0) {
    gates.push(
      createRateLimitGate({
        perSecond: config.rateLimitPerSecond,
        burst: config.rateLimitBurst,
        onLimited: registerRateLimitMetrics(deps.registry, config.rateLimitPerSecond),
      }),
    );
  }
  if (config.interceptors.includes("auth")) {
    gates.push(createAuthGate({ verify: deps.verifyToken, access: accessPolicy(config) }));
  }
  return chainGates(gates);
}

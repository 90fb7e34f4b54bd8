export type { CallInfo, CallInfoKey } from "./call-info.js";
export {
  type ConnectNodeCompletions,
  createConnectNodeCompletions,
  createFastPath,
  type FastPath,
  type FastPathOptions,
  fastPathDefaults,
  type NodeRequest,
  type NodeResponse,
} from "./fast-path.js";
export { type CorsPolicy, corsHeaders } from "./shared/cors.js";
export { encodeGrpcMessage } from "./shared/envelopes.js";
export { meterRequestBody } from "./shared/request-meter.js";
export { takeTurns, WRITES_PER_TURN } from "./shared/take-turns.js";
export { clampLongTimeouts, MAX_TIMEOUT_MS } from "./shared/timeouts.js";
export type { EarlyRefusal, RequestBudget } from "./shared/unary-call.js";

export type { EarlyRefusal } from "./call/refusal.js";
export type { RequestBudget } from "./call/request-budget.js";
export { meterRequestBody } from "./call/request-meter.js";
export { clampLongTimeouts, MAX_TIMEOUT_MS } from "./call/timeouts.js";
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
export { takeStreamsFirst } from "./take-streams-first.js";
export { type CorsPolicy, corsHeaders } from "./wire/cors.js";
export { encodeGrpcMessage } from "./wire/envelopes.js";
export { takeTurns, WRITES_PER_TURN } from "./wire/take-turns.js";

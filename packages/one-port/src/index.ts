export {
  type BudgetSpent,
  type ByteBudget,
  type ByteBudgetOptions,
  byteBudgetDefaults,
  createByteBudget,
} from "./byte-budget.js";
export {
  containerMemoryLimit,
  createMemoryGuard,
  type MemoryGuard,
  type MemoryGuardOptions,
  type MemoryPressure,
  type MemorySample,
  memoryGuardDefaults,
} from "./memory-guard.js";
export {
  createOnePortServer,
  type DualRequestListener,
  type OnePortServer,
  type OnePortServerOptions,
  type OverloadEvent,
  type OverloadReason,
  type Refusal,
  type StreamTaker,
} from "./one-port-server.js";
export { sniffProtocol, type WireProtocol } from "./preface.js";
export { createResetLimit, RESET_LIMIT_DEFAULTS, type ResetLimitOptions } from "./reset-limit.js";
export { manageSession, type SessionLifecycleOptions } from "./session-lifecycle.js";

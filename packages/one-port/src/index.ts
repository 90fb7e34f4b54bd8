export {
  createOnePortServer,
  type DualRequestListener,
  type OnePortServer,
  type OnePortServerOptions,
  type StreamTaker,
} from "./one-port-server.js";
export { sniffProtocol, type WireProtocol } from "./preface.js";
export { createResetLimit, RESET_LIMIT_DEFAULTS, type ResetLimitOptions } from "./reset-limit.js";
export { manageSession, type SessionLifecycleOptions } from "./session-lifecycle.js";

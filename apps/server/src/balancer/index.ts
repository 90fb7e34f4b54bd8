export { freePort } from "./free-port.js";
export {
  DEFAULT_CHECK_INTERVAL_MS,
  type HaproxyOptions,
  renderHaproxyConfig,
  replicaDrainDelayMs,
  type StartOptions,
  startHaproxy,
} from "./haproxy.js";
export { type Replicas, type ReplicasOptions, startReplicas } from "./replicas.js";

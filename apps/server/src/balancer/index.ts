export { freePort } from "./free-port.js";
export { type HaproxyOptions, renderHaproxyConfig, type StartOptions, startHaproxy } from "./haproxy.js";
export { type Replicas, type ReplicasOptions, startReplicas } from "./replicas.js";

export { createReflectionRegistry, type ReflectionRegistry } from "./reflection-registry.js";
export { addReflectionServices, type ReflectionOptions } from "./reflection-service.js";

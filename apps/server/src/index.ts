export {
  ConfigError,
  describeSettings,
  INTERCEPTOR_NAMES,
  type InterceptorName,
  loadConfig,
  type ServerConfig,
} from "./config.js";
export { buildServer, type GreeterServer } from "./server.js";

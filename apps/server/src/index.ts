export { ConfigError, describeSettings, loadConfig, type ServerConfig } from "./config.js";
export { buildServer, type GreeterServer } from "./server.js";

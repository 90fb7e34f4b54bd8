import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  checkProviderUrl,
  isJwtAlgorithm,
  isSecretAlgorithm,
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  PROVIDER_ALGORITHMS,
  rpcSemconvFromOptIn,
  SECRET_ALGORITHMS,
} from "@greeter/interceptors/server";

/**
 * Bytes of log lines that may wait for a slow reader before batches are
 * dropped (`LOG_QUEUE_BYTES`'s default). Here, not in logging/, so that the
 * configuration depends on nothing of the server's and logging/ reads it.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024;

/** The server's interceptors, in the order they run. */
export const INTERCEPTOR_NAMES = [
  "rate-limit",
  "auth",
  "request-id",
  "tracing",
  "metrics",
  "logging",
  "validation",
  "checksums",
] as const;
/** The steps that run as the router's request gate, before a call's body is read. */
export const GATE_STEPS = ["rate-limit", "auth"] as const satisfies readonly InterceptorName[];
export type InterceptorName = (typeof INTERCEPTOR_NAMES)[number];

/**
 * Every setting of the server, in one place: its environment variable, the
 * matching command-line flag (`PORT` → `--port`), the default and why.
 * Flags win over the environment. A bad value stops the server at start-up
 * with a message naming the setting.
 */
const SETTINGS = {
  port: {
    env: "PORT",
    help: "TCP port for every protocol (gRPC, gRPC-Web, Connect, the web app).",
    default: 50051,
    parse: (raw: string) => integer(raw, 0, 65535),
  },
  host: {
    env: "HOST",
    help: "Address to listen on. 0.0.0.0 accepts connections from anywhere; 127.0.0.1 only from this machine.",
    default: "0.0.0.0",
    parse: nonEmpty,
  },
  adminPort: {
    env: "ADMIN_PORT",
    help: "TCP port of the admin listener (plain HTTP/1.1): /metrics moves there from the public port, which then answers it 404, and /healthz answers on both. Unset = no admin listener, /metrics on the public port. 0 = any free port (tests).",
    default: undefined,
    parse: (raw: string) => integer(raw, 0, 65535),
  },
  adminHost: {
    env: "ADMIN_HOST",
    help: "Address of the admin listener. Loopback by default, so only this machine reaches it; in a pod, 0.0.0.0, for Prometheus scrapes the pod's IP (a NetworkPolicy keeps others out).",
    default: "127.0.0.1",
    parse: nonEmpty,
  },
  tlsCert: {
    env: "TLS_CERT",
    help: "Path to a PEM certificate. With TLS_KEY, the port serves TLS (ALPN h2 + http/1.1) instead of cleartext.",
    default: undefined,
    parse: readable,
  },
  tlsKey: {
    env: "TLS_KEY",
    help: "Path to the PEM private key of TLS_CERT.",
    default: undefined,
    parse: readable,
  },
  corsOrigins: {
    env: "CORS_ORIGINS",
    help: "Comma-separated browser origins allowed to call the API, or * for any. The default is the Vite dev server.",
    default: ["http://localhost:5173", "http://127.0.0.1:5173"],
    parse: origins,
  },
  webRoot: {
    env: "WEB_ROOT",
    help: "Directory of the built web app to serve at /. `pnpm start` points it at apps/web/dist.",
    default: undefined,
    parse: (raw: string) => resolve(nonEmpty(raw)),
  },
  maxMessageBytes: {
    env: "MAX_MESSAGE_BYTES",
    help: "Largest message the server reads or writes; larger ones fail with RESOURCE_EXHAUSTED. gRPC's usual 4 MiB.",
    default: 4 * 1024 * 1024,
    parse: (raw: string) => integer(raw, 1, 2 ** 31 - 1),
  },
  compressMinBytes: {
    env: "COMPRESS_MIN_BYTES",
    help: "Responses at least this long are compressed (gzip, else br) for clients that accept it; smaller ones are not worth it.",
    default: 1024,
    parse: (raw: string) => integer(raw, 0, 2 ** 31 - 1),
  },
  fastPath: {
    env: "FAST_PATH",
    help: "true: uncompressed unary calls and server streams skip connect-node's streaming pipeline (@greeter/connect-fast-path), same answers, a fraction of the cost. false: connect-node serves every call.",
    default: true,
    parse: boolean,
  },
  maxConnectionAgeMs: {
    env: "MAX_CONNECTION_AGE_MS",
    help: "HTTP/2 connections older than this (±10% jitter) get a GOAWAY, so clients reconnect and balancers re-spread them. 0 = never.",
    default: 0,
    parse: (raw: string) => integer(raw, 0, 2 ** 31 - 1),
  },
  maxConnectionAgeGraceMs: {
    env: "MAX_CONNECTION_AGE_GRACE_MS",
    help: "After that GOAWAY, how long calls in flight may take before the connection is cut. 0 = as long as they need.",
    default: 10_000,
    parse: (raw: string) => integer(raw, 0, 2 ** 31 - 1),
  },
  keepaliveTimeMs: {
    env: "KEEPALIVE_TIME_MS",
    help: "Send an HTTP/2 PING after this long without one, to find clients that are gone. 0 = never.",
    default: 60_000,
    parse: (raw: string) => integer(raw, 0, 2 ** 31 - 1),
  },
  keepaliveTimeoutMs: {
    env: "KEEPALIVE_TIMEOUT_MS",
    help: "Drop an HTTP/2 connection whose PING is not answered within this long.",
    default: 20_000,
    parse: (raw: string) => integer(raw, 1, 2 ** 31 - 1),
  },
  idleTimeoutMs: {
    env: "IDLE_TIMEOUT_MS",
    help: "Close (GOAWAY) an HTTP/2 connection with no call in flight for this long. 0 = never. (HTTP/1.1 idles out after 5 s.)",
    default: 0,
    parse: (raw: string) => integer(raw, 0, 2 ** 31 - 1),
  },
  headersTimeoutMs: {
    env: "HEADERS_TIMEOUT_MS",
    help: "HTTP/1.1: a connection must send a request's whole head within this long, or it is closed (slow clients hold memory and a socket).",
    default: 10_000,
    parse: (raw: string) => integer(raw, 1, 3_600_000),
  },
  maxConnections: {
    env: "MAX_CONNECTIONS",
    help: "Open connections the process accepts in all; past it, new ones are closed at once. 0 = no cap.",
    default: 10_000,
    parse: (raw: string) => integer(raw, 0, 10_000_000),
  },
  maxConnectionsPerAddress: {
    env: "MAX_CONNECTIONS_PER_ADDRESS",
    help: "Open connections one client IP may hold; past it, its new ones are closed at once. Behind a balancer, every client is the balancer: raise it or set 0 (no cap).",
    default: 256,
    parse: (raw: string) => integer(raw, 0, 10_000_000),
  },
  workers: {
    env: "WORKERS",
    help: "Processes serving the one port (node:cluster); the default is one per core. 1 = no cluster, just this process.",
    default: undefined,
    parse: (raw: string) => integer(raw, 1, 256),
  },
  shutdownGraceMs: {
    env: "SHUTDOWN_GRACE_MS",
    help: "On SIGTERM/SIGINT, how long in-flight calls may run before they are cut off.",
    default: 10_000,
    parse: (raw: string) => integer(raw, 0, 3_600_000),
  },
  drainDelayMs: {
    env: "DRAIN_DELAY_MS",
    help: "On SIGTERM/SIGINT, health turns NOT_SERVING at once, but the server goes on accepting connections and calls this long before it drains: the time a load balancer needs to see the failing check or a Kubernetes endpoint removal to spread, so that no call is sent to a closed port. 0 for a server clients reach directly.",
    default: 0,
    parse: (raw: string) => integer(raw, 0, 3_600_000),
  },
  interceptors: {
    env: "INTERCEPTORS",
    help: `Server interceptors to run, comma-separated, or none. They always run in the order ${INTERCEPTOR_NAMES.join(" → ")}; ${GATE_STEPS.join(" and ")} as the request gate, before a call's body is read.`,
    default: [...INTERCEPTOR_NAMES],
    parse: interceptorList,
  },
  rateLimitPerSecond: {
    env: "RATE_LIMIT_PER_SECOND",
    help: "Calls per second each client IP may make on average to one worker; more get RESOURCE_EXHAUSTED with a retry hint. Per worker: each keeps its own count, so with WORKERS=N a client whose connections reach N workers may make up to N times this (one HTTP/2 connection reaches one worker). 0 = no limit.",
    default: 0,
    parse: (raw: string) => integer(raw, 0, 1_000_000),
  },
  rateLimitBurst: {
    env: "RATE_LIMIT_BURST",
    help: "Calls a client may make at once to one worker after a quiet spell. The default is twice RATE_LIMIT_PER_SECOND.",
    default: undefined,
    parse: (raw: string) => integer(raw, 1, 10_000_000),
  },
  maxConcurrentStreams: {
    env: "MAX_CONCURRENT_STREAMS",
    help: "Calls one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). A client that opens more breaks the protocol, and Node closes its connection (GOAWAY PROTOCOL_ERROR).",
    default: 1000,
    parse: (raw: string) => integer(raw, 1, 2 ** 31 - 1),
  },
  memoryLimitBytes: {
    env: "MEMORY_LIMIT_BYTES",
    help: "Memory the process may hold: V8's heap plus the Buffers outside it (not RSS, which the allocator rarely gives back). From 80% of it (or half of V8's heap limit) new calls are refused with UNAVAILABLE; from 90% (58% of the heap limit) the connection holding the most is closed. 0 = the heap limit alone. The default is the container's memory limit, if any.",
    default: undefined,
    parse: (raw: string) => integer(raw, 0, Number.MAX_SAFE_INTEGER),
  },
  requestBufferPerConnectionBytes: {
    env: "REQUEST_BUFFER_PER_CONNECTION_BYTES",
    help: "Bytes of unfinished request messages one connection may make the server hold; past it the call is refused with RESOURCE_EXHAUSTED. 0 = no cap.",
    default: 16 * 1024 * 1024,
    parse: (raw: string) => integer(raw, 0, Number.MAX_SAFE_INTEGER),
  },
  requestBufferTotalBytes: {
    env: "REQUEST_BUFFER_TOTAL_BYTES",
    help: "Bytes of unfinished request messages all connections together may make the server hold; past it calls are refused with RESOURCE_EXHAUSTED. 0 = no cap.",
    default: 64 * 1024 * 1024,
    parse: (raw: string) => integer(raw, 0, Number.MAX_SAFE_INTEGER),
  },
  authRequired: {
    env: "AUTH_REQUIRED",
    help: "true: Greeter methods need a bearer token with scope greeter.greet. Health stays public; reflection follows REFLECTION.",
    default: false,
    parse: boolean,
  },
  authJwtSecret: {
    env: "AUTH_JWT_SECRET",
    help: "Shared secret (at least 32 characters) that verifies HS256 tokens; `pnpm mint-token` signs with it. Never logged.",
    default: undefined,
    parse: secret,
    secret: true,
  },
  authPublicKeyFile: {
    env: "AUTH_PUBLIC_KEY_FILE",
    help: "Path to a PEM public key (RSA, EC or Ed25519) that verifies tokens from an identity provider, instead of a secret.",
    default: undefined,
    parse: readable,
  },
  authJwksUrl: {
    env: "AUTH_JWKS_URL",
    help: "An identity provider's JSON Web Key Set (https): tokens are verified with its keys, fetched at start-up (the server does not start without them) and again as the provider rotates them. See AUTH_ISSUER for finding it by discovery.",
    default: undefined,
    parse: (raw: string) => checkProviderUrl(nonEmpty(raw)).href,
  },
  authIssuer: {
    env: "AUTH_ISSUER",
    help: "Tokens must carry this `iss`, if set. With no AUTH_JWT_SECRET, AUTH_PUBLIC_KEY_FILE or AUTH_JWKS_URL it is also where the keys come from: its OpenID discovery document (ISSUER/.well-known/openid-configuration) names the key set.",
    default: undefined,
    parse: nonEmpty,
  },
  authAlgorithms: {
    env: "AUTH_ALGORITHMS",
    help: `JWT algorithms tokens may be signed with, comma-separated; never the token's choice, never none. Default: ${SECRET_ALGORITHMS.join(",")} with AUTH_JWT_SECRET, every one the key can verify with AUTH_PUBLIC_KEY_FILE, ${PROVIDER_ALGORITHMS.join(",")} with a provider's keys (whose keys for other algorithms go unused).`,
    default: undefined,
    parse: algorithmList,
  },
  authJwksTimeoutMs: {
    env: "AUTH_JWKS_TIMEOUT_MS",
    help: "Longest wait for the provider's discovery document or key set, answer included. At start-up a slower provider stops the server; later the last key set stays in use.",
    default: 5_000,
    parse: (raw: string) => integer(raw, 1, 600_000),
  },
  authJwksCooldownMs: {
    env: "AUTH_JWKS_COOLDOWN_MS",
    help: "Least time between fetches of the key set: a token naming a key the set lacks (kid) fetches it again at most this often, and a failed fetch is retried after this long.",
    default: 30_000,
    parse: (raw: string) => integer(raw, 0, 86_400_000),
  },
  authJwksMaxAgeMs: {
    env: "AUTH_JWKS_MAX_AGE_MS",
    help: "The key set is fetched again when older than this, and verified tokens are checked again against the new set: a token whose key the provider removed is refused at most this long after. While the provider cannot be reached, the last set stays in use.",
    default: 600_000,
    parse: (raw: string) => integer(raw, 1_000, 86_400_000),
  },
  authAudience: {
    env: "AUTH_AUDIENCE",
    help: "Tokens must carry this `aud`.",
    default: "greeter",
    parse: nonEmpty,
  },
  reflection: {
    env: "REFLECTION",
    help: "gRPC server reflection (grpcurl, buf curl, Postman): public (anyone may list and describe every method), auth (a bearer token with scope greeter.greet, the one a Greeter call needs) or off (UNIMPLEMENTED).",
    default: "public",
    parse: (raw: string) => oneOf(raw, ["public", "auth", "off"] as const),
  },
  otelExporterOtlpEndpoint: {
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    help: "OpenTelemetry collector base URL (e.g. http://localhost:4318): spans of every RPC go there over OTLP/HTTP. Unset = no tracing.",
    default: undefined,
    parse: (raw: string) => new URL(nonEmpty(raw)).href,
  },
  otlpMetrics: {
    env: "OTLP_METRICS",
    help: "true: also export OpenTelemetry's RPC server duration histogram (rpc.server.call.duration or rpc.server.duration, see OTEL_SEMCONV_STABILITY_OPT_IN) to OTEL_EXPORTER_OTLP_ENDPOINT once a minute. Off by default: recording it slows every call measurably, and /metrics already has the Prometheus histogram of the same calls.",
    default: false,
    parse: boolean,
  },
  otelSemconvStabilityOptIn: {
    env: "OTEL_SEMCONV_STABILITY_OPT_IN",
    help: "Which OpenTelemetry RPC conventions spans and metrics follow (a comma-separated list; categories other than rpc are ignored): rpc = the stable ones (rpc.system.name, rpc.status_code, rpc.server.call.duration), rpc/dup = old and stable both. Unset: the old ones (rpc.system, rpc.grpc.status_code, rpc.server.duration).",
    default: undefined,
    parse: rpcSemconvFromOptIn,
  },
  openapi: {
    env: "OPENAPI",
    help: "true: serve the OpenAPI 3.1 document of the Connect API (generated from the proto) at /openapi.json.",
    default: true,
    parse: boolean,
  },
  docs: {
    env: "DOCS",
    help: "true: serve interactive API docs (Swagger UI) at /docs, where a person can try each call. Needs OPENAPI=true.",
    default: true,
    parse: boolean,
  },
  logLevel: {
    env: "LOG_LEVEL",
    help: "pino log level: fatal, error, warn, info, debug, trace or silent. Each RPC's line is info (debug for health checks), warn or error when it fails: at warn, only failed calls are logged and the others cost no line.",
    default: "info",
    parse: (raw: string) => oneOf(raw, ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
  },
  logFormat: {
    env: "LOG_FORMAT",
    help: "json (one object per line, for log collectors) or pretty (coloured, for people; `pnpm dev` uses it).",
    default: "json",
    parse: (raw: string) => oneOf(raw, ["json", "pretty"] as const),
  },
  logQueueBytes: {
    env: "LOG_QUEUE_BYTES",
    help: "Bytes of JSON log lines that may wait for a slow stdout reader; past it whole batches are dropped, counted in greeter_log_lines_dropped_total and reported in a warn line. The server never waits for its log.",
    default: DEFAULT_MAX_QUEUED_BYTES,
    parse: (raw: string) => integer(raw, 64 * 1024, 1024 * 1024 * 1024),
  },
} as const;

type Settings = typeof SETTINGS;
type SettingValue<S> = S extends { parse: (raw: string) => infer T; default: infer D } ? T | D : never;

/** The validated configuration of one server. */
export type ServerConfig = { -readonly [K in keyof Settings]: SettingValue<Settings[K]> };

/** A setting had a value the server cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A table of every setting, for `--help` and the README. */
export function describeSettings(): { env: string; flag: string; default: string; help: string }[] {
  return Object.values(SETTINGS).map((s) => ({
    env: s.env,
    flag: flagOf(s.env),
    default: s.default === undefined ? "" : Array.isArray(s.default) ? s.default.join(",") : String(s.default),
    help: s.help,
  }));
}

/**
 * Reads the configuration from the environment and command-line flags.
 * @throws ConfigError naming the setting and the problem
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): ServerConfig {
  const flags = parseFlags(argv);
  const config: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const flag = flagOf(setting.env);
    const raw = flags[flag] ?? env[setting.env];
    if (raw === undefined || raw === "") {
      config[key] = setting.default;
      continue;
    }
    try {
      config[key] = setting.parse(raw);
    } catch (e) {
      const source = flags[flag] !== undefined ? `--${flag}` : setting.env;
      const shown = "secret" in setting ? "<hidden>" : JSON.stringify(raw);
      throw new ConfigError(`${source}=${shown}: ${(e as Error).message}`);
    }
  }
  const result = config as ServerConfig;
  if ((result.tlsCert === undefined) !== (result.tlsKey === undefined)) {
    throw new ConfigError("TLS_CERT and TLS_KEY go together: set both or neither");
  }
  checkAuthKeys(result);
  if (result.otlpMetrics && result.otelExporterOtlpEndpoint === undefined) {
    throw new ConfigError("OTLP_METRICS=true needs OTEL_EXPORTER_OTLP_ENDPOINT, where the metrics go");
  }
  if (result.docs && !result.openapi) {
    throw new ConfigError("DOCS=true needs OPENAPI=true: the docs page reads /openapi.json");
  }
  if (result.authRequired) {
    if (!result.interceptors.includes("auth")) {
      throw new ConfigError("AUTH_REQUIRED=true needs the auth interceptor in INTERCEPTORS");
    }
    if (authKeySource(result) === undefined) {
      throw new ConfigError(
        "AUTH_REQUIRED=true needs AUTH_JWT_SECRET, AUTH_PUBLIC_KEY_FILE, AUTH_JWKS_URL or AUTH_ISSUER (OpenID discovery) to verify tokens with",
      );
    }
  }
  checkAdminAndReflection(result);
  return result;
}

/** Where the keys that verify tokens come from; at most one of them may be set. */
export type AuthKeySource = "secret" | "public-key" | "jwks" | "discovery";

/** The configured source of keys, if any: AUTH_ISSUER alone means OpenID discovery. */
export function authKeySource(config: ServerConfig): AuthKeySource | undefined {
  if (config.authJwtSecret !== undefined) return "secret";
  if (config.authPublicKeyFile !== undefined) return "public-key";
  if (config.authJwksUrl !== undefined) return "jwks";
  return config.authIssuer !== undefined ? "discovery" : undefined;
}

function checkAuthKeys(config: ServerConfig): void {
  const set = (
    [
      ["AUTH_JWT_SECRET", config.authJwtSecret],
      ["AUTH_PUBLIC_KEY_FILE", config.authPublicKeyFile],
      ["AUTH_JWKS_URL", config.authJwksUrl],
    ] as const
  ).filter(([, value]) => value !== undefined);
  if (set.length > 1) {
    const names = set.map(([name]) => name);
    throw new ConfigError(
      `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are ${set.length === 2 ? "both" : "all"} key sources: set one`,
    );
  }
  const source = authKeySource(config);
  if (source === "discovery" && config.interceptors.includes("auth")) {
    try {
      checkProviderUrl(config.authIssuer ?? "");
    } catch (e) {
      throw new ConfigError(
        `AUTH_ISSUER=${JSON.stringify(config.authIssuer)} is where the keys are discovered (no other key source is set), so it ${(e as Error).message}`,
      );
    }
  }
  const algorithms = config.authAlgorithms;
  if (algorithms === undefined || source === undefined) return;
  const hmac = algorithms.filter(isSecretAlgorithm);
  if (source === "secret" && hmac.length < algorithms.length) {
    throw new ConfigError(
      `AUTH_ALGORITHMS=${algorithms.join(",")}: AUTH_JWT_SECRET, a shared secret, verifies only ${SECRET_ALGORITHMS.join(", ")}`,
    );
  }
  if (source !== "secret" && hmac.length > 0) {
    throw new ConfigError(
      `AUTH_ALGORITHMS=${algorithms.join(",")}: ${hmac.join(", ")} needs a shared secret (AUTH_JWT_SECRET); with a public key it would let anyone sign with that key as the secret`,
    );
  }
}

function checkAdminAndReflection(config: ServerConfig): void {
  if (config.adminPort !== undefined && config.adminPort !== 0 && config.adminPort === config.port) {
    throw new ConfigError(`ADMIN_PORT=${config.adminPort} is PORT too: the admin listener needs a port of its own`);
  }
  if (config.reflection !== "auth") return;
  if (!config.interceptors.includes("auth")) {
    throw new ConfigError("REFLECTION=auth needs the auth interceptor in INTERCEPTORS");
  }
  if (authKeySource(config) === undefined) {
    throw new ConfigError(
      "REFLECTION=auth needs AUTH_JWT_SECRET, AUTH_PUBLIC_KEY_FILE, AUTH_JWKS_URL or AUTH_ISSUER (OpenID discovery) to verify tokens with",
    );
  }
}

function parseFlags(argv: string[]): Record<string, string | undefined> {
  const options = Object.fromEntries(Object.values(SETTINGS).map((s) => [flagOf(s.env), { type: "string" as const }]));
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

function flagOf(env: string): string {
  return env.toLowerCase().replaceAll("_", "-");
}

function integer(raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new Error("must be a whole number");
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`must be between ${min} and ${max}`);
  return n;
}

function nonEmpty(raw: string): string {
  const value = raw.trim();
  if (value === "") throw new Error("must not be empty");
  return value;
}

function readable(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read the file (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

function origins(raw: string): string[] {
  const list = raw
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const origin of list) {
    if (origin === "*") continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`"${origin}" is not an origin like http://localhost:5173`);
    }
    if (url.origin !== origin) throw new Error(`"${origin}" is not an origin; did you mean "${url.origin}"?`);
  }
  return list;
}

function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new Error("must be true or false");
}

function secret(raw: string): string {
  if (raw.length < 32) throw new Error("must be at least 32 characters (HS256 wants 256 bits)");
  return raw;
}

function interceptorList(raw: string): InterceptorName[] {
  if (raw.trim().toLowerCase() === "none") return [];
  const names = raw.split(",").map((n) => n.trim().toLowerCase());
  for (const name of names) {
    if (!(INTERCEPTOR_NAMES as readonly string[]).includes(name)) {
      throw new Error(`"${name}" is not an interceptor; choose from ${INTERCEPTOR_NAMES.join(", ")} (or none)`);
    }
  }
  return INTERCEPTOR_NAMES.filter((n) => names.includes(n));
}

function algorithmList(raw: string): JwtAlgorithm[] {
  const names = raw
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  if (names.length === 0) throw new Error("must name at least one algorithm");
  for (const name of names) {
    if (name.toLowerCase() === "none") throw new Error("none is never accepted: a token must be signed");
    if (!isJwtAlgorithm(name))
      throw new Error(`"${name}" is not a JWT algorithm; choose from ${JWT_ALGORITHMS.join(", ")}`);
  }
  return [...new Set(names as JwtAlgorithm[])];
}

function oneOf<const T extends readonly string[]>(raw: string, allowed: T): T[number] {
  const value = raw.trim().toLowerCase();
  if (!allowed.includes(value)) throw new Error(`must be one of ${allowed.join(", ")}`);
  return value as T[number];
}

import { createPublicKey } from "node:crypto";
import {
  createJwtVerifier,
  createRemoteKeySet,
  discoverJwksUrl,
  InvalidTokenError,
  type Principal,
} from "@greeter/interceptors/server";
import type { Logger } from "pino";
import { authKeySource, type ServerConfig } from "./config.js";

/** Checks a bearer token (the auth gate's `verify`). */
export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * The auth gate's token check, from whichever key source is set
 * (config.ts: authKeySource). Keys from an identity provider are fetched
 * here, once, before the server listens: its discovery document when only
 * AUTH_ISSUER is set, then its key set. A provider that cannot be reached,
 * is slow or answers nonsense stops the start-up with a KeyProviderError
 * naming the URL; later problems with it are logged, and the last key set
 * stays in use.
 */
export async function createTokenVerifier(config: ServerConfig, logger: Logger): Promise<TokenVerifier> {
  const common = { issuer: config.authIssuer, audience: config.authAudience, algorithms: config.authAlgorithms };
  // Without the auth step, no token is checked: nothing to fetch.
  const source = config.interceptors.includes("auth") ? authKeySource(config) : undefined;
  switch (source) {
    case "secret":
      return createJwtVerifier({ ...common, key: new TextEncoder().encode(config.authJwtSecret) });
    case "public-key":
      return createJwtVerifier({ ...common, key: createPublicKey(config.authPublicKeyFile ?? "") });
    case "jwks":
    case "discovery": {
      const url =
        source === "jwks"
          ? new URL(config.authJwksUrl ?? "")
          : await discoverJwksUrl(config.authIssuer ?? "", config.authJwksTimeoutMs);
      const keys = createRemoteKeySet({
        url,
        algorithms: config.authAlgorithms,
        timeoutMs: config.authJwksTimeoutMs,
        cooldownMs: config.authJwksCooldownMs,
        maxAgeMs: config.authJwksMaxAgeMs,
        onProblem: (e) => logger.error({ err: e }, `identity provider: key set ${e.problem}`),
      });
      await keys.load();
      logger.info(
        { jwksUrl: url.href, algorithms: keys.algorithms },
        "auth: tokens are verified with the provider's keys",
      );
      return createJwtVerifier({ ...common, key: keys });
    }
    case undefined:
      return () => Promise.reject(new InvalidTokenError("this server has no key to verify tokens with"));
  }
}

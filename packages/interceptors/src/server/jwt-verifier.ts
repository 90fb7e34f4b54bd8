import { createSecretKey, type KeyObject } from "node:crypto";
import { jwtVerify } from "jose";
import type { Principal } from "./auth.js";
import { invalidTokenOf } from "./jose-reasons.js";

export interface JwtVerifierOptions {
  /** An HS256 shared secret, or a public key (RS256, ES256, EdDSA) as a Node KeyObject. */
  key: Uint8Array | KeyObject;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Required `aud`, when set. */
  audience?: string;
  /** Seconds of clock difference tolerated on `exp` and `nbf`. @default 5 */
  clockToleranceSeconds?: number;
  /** Verified tokens remembered until they expire, so a client's every call is not a signature check. @default 1000 */
  cacheSize?: number;
}

/**
 * Verifies JSON Web Tokens with jose: signature, `exp` (required), `nbf`,
 * `iss` and `aud`; the principal is `sub` with the space-separated `scope`
 * claim (OAuth 2.0). A token it refuses throws an InvalidTokenError saying
 * why in our words, jose's error as its cause.
 */
export function createJwtVerifier(options: JwtVerifierOptions): (token: string) => Promise<Principal> {
  const key = options.key instanceof Uint8Array ? createSecretKey(options.key) : options.key;
  const algorithms = key.type === "secret" ? ["HS256", "HS384", "HS512"] : undefined;
  const cacheSize = options.cacheSize ?? 1000;
  const cache = new Map<string, { principal: Principal; expiresAt: number }>();

  return async (token) => {
    const cached = cache.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached.principal;
    cache.delete(token);
    const { payload } = await jwtVerify(token, key, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ["exp", "sub"],
    }).catch((e: unknown) => {
      throw invalidTokenOf(e);
    });
    const principal: Principal = {
      subject: String(payload.sub),
      scopes: new Set(typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : []),
    };
    if (cacheSize > 0) {
      // The oldest entry goes first (a Map keeps insertion order).
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
      cache.set(token, { principal, expiresAt: (payload.exp as number) * 1000 });
    }
    return principal;
  };
}

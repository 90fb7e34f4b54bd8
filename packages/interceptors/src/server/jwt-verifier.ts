import { createSecretKey, KeyObject } from "node:crypto";
import { type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from "jose";
import type { Principal } from "./auth.js";
import { invalidTokenOf } from "./jose-reasons.js";
import {
  algorithmsForKey,
  isSecretAlgorithm,
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  SECRET_ALGORITHMS,
} from "./jwt-algorithms.js";
import type { RemoteKeySet } from "./remote-key-set.js";

export interface JwtVerifierOptions {
  /**
   * What verifies signatures: a shared secret (HMAC), a public key as a
   * Node KeyObject (RSA, EC or Ed25519), or an identity provider's key set
   * (createRemoteKeySet).
   */
  key: Uint8Array | KeyObject | RemoteKeySet;
  /**
   * The algorithms a token may be signed with, checked against its `alg`
   * before anything else: the token never chooses. @default HS256, HS384
   * and HS512 for a secret; every algorithm a public key can verify; the
   * key set's own list for a key set
   */
  algorithms?: readonly JwtAlgorithm[];
  /** Required `iss`, when set. */
  issuer?: string;
  /** Required `aud`, when set. */
  audience?: string;
  /** Seconds of clock difference tolerated on `exp` and `nbf`. @default 5 */
  clockToleranceSeconds?: number;
  /**
   * Verified tokens remembered until they expire, so a client's every call
   * is not a signature check. With a key set, what one set verified is
   * forgotten when another set is fetched, so that a token whose key was
   * removed is checked again, and refused. @default 1000
   */
  cacheSize?: number;
}

/** The key to give jose, with the value that changes when it does (the cache's generation). */
interface Keys {
  key: KeyObject | JWTVerifyGetKey;
  algorithms: JwtAlgorithm[];
  current(): object | Promise<object>;
}

/**
 * Verifies JSON Web Tokens with jose: algorithm, signature, `exp`
 * (required), `nbf`, `iss` and `aud`; the principal is `sub` with the
 * space-separated `scope` claim (OAuth 2.0). A token it refuses throws an
 * InvalidTokenError saying why in our words, jose's error as its cause.
 * @throws Error at once if none of `algorithms` fits the key
 */
export function createJwtVerifier(options: JwtVerifierOptions): (token: string) => Promise<Principal> {
  const { key, algorithms, current } = keysOf(options);
  const cacheSize = options.cacheSize ?? 1000;
  const cache = new Map<string, { principal: Principal; expiresAt: number; generation: object }>();

  return async (token) => {
    const pending = current();
    const generation = pending instanceof Promise ? await pending : pending;
    const cached = cache.get(token);
    if (cached && cached.expiresAt > Date.now() && cached.generation === generation) return cached.principal;
    cache.delete(token);
    // Verified against `generation` at the latest: should jose take a newer
    // set meanwhile, the entry is merely checked again next time.
    const { payload } = await verifyWith(token, key, {
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
      cache.set(token, { principal, expiresAt: (payload.exp as number) * 1000, generation });
    }
    return principal;
  };
}

function verifyWith(token: string, key: Keys["key"], options: JWTVerifyOptions) {
  return typeof key === "function" ? jwtVerify(token, key, options) : jwtVerify(token, key, options);
}

function keysOf(options: JwtVerifierOptions): Keys {
  const given = options.key;
  if (!(given instanceof Uint8Array) && !(given instanceof KeyObject)) {
    const algorithms = [...(options.algorithms ?? given.algorithms)];
    if (algorithms.some(isSecretAlgorithm)) {
      throw new Error(`a key set verifies no HMAC algorithm (${algorithms.filter(isSecretAlgorithm).join(", ")})`);
    }
    return { key: given.getKey, algorithms, current: () => given.current() };
  }
  const key = given instanceof Uint8Array ? createSecretKey(given) : given;
  const wanted = options.algorithms ?? (key.type === "secret" ? SECRET_ALGORITHMS : JWT_ALGORITHMS);
  const algorithms = algorithmsForKey(key, wanted);
  if (algorithms.length === 0) {
    const kind = key.type === "secret" ? "a shared secret" : `a ${key.asymmetricKeyType} public key`;
    throw new Error(`none of the algorithms ${wanted.join(", ")} can be verified with ${kind}`);
  }
  const generation = {};
  return { key, algorithms, current: () => generation };
}

import {
  createRemoteJWKSet,
  customFetch,
  type ExportedJWKSCache,
  type FetchImplementation,
  type JWTVerifyGetKey,
  jwksCache,
} from "jose";
import { type JwtAlgorithm, jwkFits, PROVIDER_ALGORITHMS } from "./jwt-algorithms.js";
import { KeyProviderError } from "./key-provider-error.js";
import { fetchProviderJson } from "./provider-fetch.js";

export interface RemoteKeySetOptions {
  /** The identity provider's JWKS URL (`jwks_uri`; see discoverJwksUrl). */
  url: URL;
  /**
   * Algorithms tokens may be signed with. Keys of the set that can verify
   * none of them are dropped as they arrive. @default PROVIDER_ALGORITHMS
   */
  algorithms?: readonly JwtAlgorithm[];
  /** Longest wait for one fetch of the key set, answer included. @default 5000 */
  timeoutMs?: number;
  /**
   * Least time between fetches: after a fetch, a token naming a key the set
   * lacks (`kid`) fetches again only this long later, so strangers sending
   * made-up key ids cannot make the server hammer its provider; after a
   * failed fetch, the next waits this long too. @default 30000
   */
  cooldownMs?: number;
  /**
   * A key set older than this is fetched again before its next use, and
   * the token verifier's cache forgets what the older set verified: a key
   * the provider removed is refused at most this long (plus a fetch) after
   * it was. @default 600000 (10 minutes)
   */
  maxAgeMs?: number;
  /**
   * Told of every problem with the provider once the set is loaded: a fetch
   * that failed (the last set stays in use) or a set with no usable key.
   * @default nothing
   */
  onProblem?: (error: KeyProviderError) => void;
}

/** An identity provider's key set, as a JWT verifier uses it. */
export interface RemoteKeySet {
  readonly url: URL;
  readonly algorithms: readonly JwtAlgorithm[];
  /** Finds the key a token names, fetching the set again for an unknown `kid` (at most once per cooldown). */
  readonly getKey: JWTVerifyGetKey;
  /**
   * Fetches the set now: the start-up check.
   * @throws KeyProviderError if the provider cannot be reached, is slow,
   * answers something that is not a JWK Set, or has no usable key
   */
  load(): Promise<void>;
  /**
   * The set in use, as a value that changes whenever another set is: a set
   * older than `maxAgeMs` is fetched again first. When the provider fails,
   * the last set it gave stays in use (tokens it verifies keep working) and
   * is fetched again in the background, each cooldown.
   */
  current(): object | Promise<object>;
}

/**
 * An identity provider's JWKS on jose's `createRemoteJWKSet` (its cache,
 * its refetch on an unknown `kid` with a cooldown, its key selection by
 * `kid`, `alg`, `kty` and `use`), with what a server needs around it: one
 * place that fetches (bounded in time and size, failures reported and
 * spaced out), keys for other algorithms dropped, and the last good set
 * kept through an outage.
 */
export function createRemoteKeySet(options: RemoteKeySetOptions): RemoteKeySet {
  const algorithms = options.algorithms ?? PROVIDER_ALGORITHMS;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 600_000;
  // jose writes the set and its time here whenever it takes a new one, in
  // the same step as it starts using it: the set's identity is the
  // verifier's cache generation, with no gap between the two.
  const applied: Partial<ExportedJWKSCache> = {};
  let loaded = false;
  let lastFailure: { at: number; error: KeyProviderError } | undefined;
  const report = (error: KeyProviderError) => {
    if (loaded) options.onProblem?.(error);
  };

  const fetchKeys: FetchImplementation = async (url, init) => {
    if (lastFailure && Date.now() - lastFailure.at < cooldownMs) throw lastFailure.error;
    try {
      const keys = usableKeys(url, await fetchProviderJson(url, timeoutMs, init.headers), algorithms);
      lastFailure = undefined;
      if (keys.length === 0) report(noKeys(url, algorithms));
      return Response.json({ keys });
    } catch (e) {
      const error = e instanceof KeyProviderError ? e : new KeyProviderError(url, "failed", { cause: e });
      lastFailure = { at: Date.now(), error };
      report(error);
      throw error;
    }
  };
  const remote = createRemoteJWKSet(options.url, {
    timeoutDuration: timeoutMs,
    cooldownDuration: cooldownMs,
    // Age is ours to judge (current()): jose would refetch a stale set
    // inside a verification and fail it when the provider is down.
    cacheMaxAge: Number.POSITIVE_INFINITY,
    [customFetch]: fetchKeys,
    [jwksCache]: applied as Record<string, never>,
  });
  const generation = (): object => applied.jwks ?? applied;

  return {
    url: options.url,
    algorithms,
    getKey: remote,
    async load() {
      await remote.reload();
      if (applied.jwks?.keys.length === 0) throw noKeys(options.url.href, algorithms);
      loaded = true;
    },
    current() {
      if (Date.now() - (applied.uat ?? 0) < maxAgeMs) return generation();
      if (lastFailure) {
        // The provider is failing: answer from the last set now, and try
        // again behind the calls (fetchKeys spaces the tries out).
        remote.reload().catch(() => {});
        return generation();
      }
      return remote.reload().then(generation, generation);
    },
  };
}

/** The keys of a JWK Set that can verify one of `algorithms`. */
function usableKeys(url: string, body: unknown, algorithms: readonly JwtAlgorithm[]): object[] {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "object" && k !== null)) {
    throw new KeyProviderError(url, 'answered JSON that is not a JWK Set (no "keys" array of objects)');
  }
  return keys.filter((k: Record<string, unknown>) => jwkFits(k, algorithms));
}

function noKeys(url: string, algorithms: readonly JwtAlgorithm[]): KeyProviderError {
  return new KeyProviderError(url, `has no signing key for ${algorithms.join(", ")}`);
}

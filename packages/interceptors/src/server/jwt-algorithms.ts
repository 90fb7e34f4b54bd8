import type { KeyObject } from "node:crypto";

/** The key a JWS algorithm verifies with (RFC 7518 §3.1, RFC 8037): a JWK's `kty` and, for curves, `crv`. */
interface KeyShape {
  kty: "oct" | "RSA" | "EC" | "OKP";
  crv?: string;
}

// `none` is not here on purpose: a token that says it needs no signature is
// never accepted, whatever the settings say.
const SHAPES = {
  HS256: { kty: "oct" },
  HS384: { kty: "oct" },
  HS512: { kty: "oct" },
  RS256: { kty: "RSA" },
  RS384: { kty: "RSA" },
  RS512: { kty: "RSA" },
  PS256: { kty: "RSA" },
  PS384: { kty: "RSA" },
  PS512: { kty: "RSA" },
  ES256: { kty: "EC", crv: "P-256" },
  ES384: { kty: "EC", crv: "P-384" },
  ES512: { kty: "EC", crv: "P-521" },
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  Ed25519: { kty: "OKP", crv: "Ed25519" },
} as const satisfies Record<string, KeyShape>;

/** A JWS signature algorithm a verifier may be told to accept. */
export type JwtAlgorithm = keyof typeof SHAPES;

/** Every algorithm a verifier can be told to accept (`none` never is). */
export const JWT_ALGORITHMS = Object.keys(SHAPES) as readonly JwtAlgorithm[];

/** A shared secret's default: the three HMAC algorithms. */
export const SECRET_ALGORITHMS: readonly JwtAlgorithm[] = ["HS256", "HS384", "HS512"];

/**
 * The default for keys from an identity provider's JWKS: what Auth0, Okta,
 * Keycloak, Entra ID and Google sign with unless told otherwise (RS256), and
 * the one modern choice of each other key type. Others are a setting away.
 */
export const PROVIDER_ALGORITHMS: readonly JwtAlgorithm[] = ["RS256", "PS256", "ES256", "EdDSA"];

/** Whether `name` is an algorithm a verifier can accept. */
export function isJwtAlgorithm(name: string): name is JwtAlgorithm {
  return Object.hasOwn(SHAPES, name);
}

/** HMAC: verified with a shared secret, never with a public key. */
export function isSecretAlgorithm(algorithm: JwtAlgorithm): boolean {
  return SHAPES[algorithm].kty === "oct";
}

/**
 * Whether a JWK from a key set may verify tokens signed with one of
 * `algorithms`: a public signing key (`use` absent or `sig`) of the right
 * type and curve, whose own `alg`, if it names one, is among them.
 */
export function jwkFits(jwk: Readonly<Record<string, unknown>>, algorithms: readonly JwtAlgorithm[]): boolean {
  if (jwk.use !== undefined && jwk.use !== "sig") return false;
  const allowed = typeof jwk.alg === "string" ? algorithms.filter((a) => a === jwk.alg) : algorithms;
  return allowed.some((a) => {
    const shape: KeyShape = SHAPES[a];
    return shape.kty !== "oct" && shape.kty === jwk.kty && (shape.crv === undefined || shape.crv === jwk.crv);
  });
}

/** The algorithms of `algorithms` a Node key can verify. */
export function algorithmsForKey(key: KeyObject, algorithms: readonly JwtAlgorithm[]): JwtAlgorithm[] {
  if (key.type === "secret") return algorithms.filter(isSecretAlgorithm);
  const jwk = key.export({ format: "jwk" });
  return algorithms.filter((a) => jwkFits(jwk as Record<string, unknown>, [a]));
}

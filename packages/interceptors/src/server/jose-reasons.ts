import { errors } from "jose";
import { InvalidTokenError } from "./invalid-token.js";
import { KeyProviderError } from "./key-provider-error.js";

// The claims jose checks, as a client would want them explained.
const CLAIM_FAILURES: Readonly<Record<string, string>> = {
  aud: "it is meant for another audience (aud)",
  iss: "it comes from another issuer (iss)",
  nbf: "it is not valid yet (nbf)",
  iat: "its issue time (iat) is not acceptable",
};

/**
 * jose's rejection of a token as an InvalidTokenError: one stable sentence
 * per kind of failure (the table below), jose's error as its cause.
 */
export function invalidTokenOf(e: unknown): InvalidTokenError {
  return new InvalidTokenError(reasonOf(e), { cause: e });
}

function reasonOf(e: unknown): string {
  if (e instanceof errors.JWTExpired) return "it has expired (exp)";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.reason === "missing") return `it lacks the required claim "${e.claim}"`;
    return CLAIM_FAILURES[e.claim] ?? `its "${e.claim}" claim is not acceptable`;
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return "its signature does not match";
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) {
    return "it is signed with an algorithm this server does not accept";
  }
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return "it is not a well-formed JWT";
  if (e instanceof errors.JWKSNoMatchingKey) return "no key this server trusts signed it";
  // Thrown by the key set's fetch, through jose, for a key id it lacks.
  if (e instanceof KeyProviderError) {
    return "it names a key this server does not have, and the identity provider cannot be reached for new keys";
  }
  return "it was rejected";
}

import { createSecretKey, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";

export interface MintTokenOptions {
  /** The HS256 secret the server verifies with (AUTH_JWT_SECRET), or a private key. */
  key: Uint8Array | KeyObject;
  subject: string;
  scopes?: readonly string[];
  /** @default 3600 */
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

/** Signs a token the Greeter server accepts: for development and tests; production tokens come from an identity provider. */
export function mintToken(options: MintTokenOptions): Promise<string> {
  const key = options.key instanceof Uint8Array ? createSecretKey(options.key) : options.key;
  let jwt = new SignJWT({ scope: (options.scopes ?? []).join(" ") })
    .setProtectedHeader({ alg: key.type === "secret" ? "HS256" : algorithmOf(key) })
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 3600));
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(key);
}

function algorithmOf(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return "RS256";
    case "ec":
      return "ES256";
    case "ed25519":
      return "EdDSA";
    default:
      throw new Error(`no JWT algorithm for a ${key.asymmetricKeyType} key`);
  }
}

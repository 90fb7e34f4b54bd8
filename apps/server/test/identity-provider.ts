import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** A key pair an identity provider signs with; its public half is what the provider's JWKS serves. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  /** The public key as the JWKS serves it (`kid`, `alg`, `use: sig`). */
  readonly jwk: JWK;
  /** A token for `sub` with the Greeter scope and audience, `kid` and `alg` in its header. */
  sign(claims?: { sub?: string; iss?: string; scope?: string }): Promise<string>;
}

/** A new key pair of `alg` that signs tokens from `issuer`, named `kid`. */
export async function createSigningKey(issuer: string, kid: string, alg = "RS256"): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return {
    kid,
    alg,
    jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" },
    sign: (claims = {}) =>
      new SignJWT({ scope: claims.scope ?? "greeter.greet" })
        .setProtectedHeader({ alg, kid })
        .setSubject(claims.sub ?? "ada")
        .setIssuer(claims.iss ?? issuer)
        .setAudience("greeter")
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(privateKey),
  };
}

/**
 * What the provider answers for a path: a JSON value, `{ status }` (an
 * empty answer with that HTTP status), `notJson(text)`, or HANG_UP (the
 * socket is destroyed before any answer).
 */
type Answer = unknown;
export const HANG_UP = Symbol("hang up");
const RAW_TEXT = Symbol("raw text");
/** An answer of 200 with `text` that is not JSON, as a proxy's error page would be. */
export const notJson = (text: string) => ({ [RAW_TEXT]: text });

/**
 * An OpenID provider on a real loopback port (port 0): its discovery
 * document at /.well-known/openid-configuration and its key set at
 * /jwks.json, counting the fetches of each. Tests change what it serves,
 * how late, or make it hang up.
 */
export interface IdentityProvider {
  /** Its issuer, `http://127.0.0.1:PORT`: AUTH_ISSUER. */
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly discoveryUrl: string;
  /** The keys its JWKS serves, in order; change freely. */
  keys: SigningKey[];
  /** Instead of the usual document: what discovery answers (see Answer). */
  discovery?: Answer;
  /** Instead of `{ keys }`: what the JWKS answers. */
  jwks?: Answer;
  /** Milliseconds before any answer starts. */
  delayMs: number;
  readonly fetches: { discovery: number; jwks: number };
  close(): Promise<void>;
}

export async function startIdentityProvider(): Promise<IdentityProvider> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const answer = (): Answer | undefined => {
      if (req.url === "/.well-known/openid-configuration") {
        provider.fetches.discovery++;
        return provider.discovery ?? { issuer: provider.issuer, jwks_uri: provider.jwksUrl };
      }
      if (req.url === "/jwks.json") {
        provider.fetches.jwks++;
        return provider.jwks ?? { keys: provider.keys.map((k) => k.jwk) };
      }
      return undefined;
    };
    const body = answer();
    const send = () => reply(res, body);
    if (provider.delayMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, provider.delayMs);
      timers.add(timer);
    } else send();
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider: IdentityProvider = {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    keys: [],
    delayMs: 0,
    fetches: { discovery: 0, jwks: 0 },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return provider;
}

function reply(res: ServerResponse, body: Answer | undefined): void {
  if (body === HANG_UP) {
    res.socket?.destroy();
    return;
  }
  if (body === undefined) {
    res.writeHead(404).end();
    return;
  }
  if (typeof body === "object" && body !== null && "status" in body && typeof body.status === "number") {
    res.writeHead(body.status).end();
    return;
  }
  if (typeof body === "object" && body !== null && RAW_TEXT in body) {
    res.writeHead(200, { "content-type": "text/html" }).end(String(body[RAW_TEXT]));
    return;
  }
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}

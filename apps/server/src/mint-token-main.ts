// `pnpm mint-token [--subject NAME] [--scope S] [--ttl SECONDS]`: prints a token
// the server accepts, signed with AUTH_JWT_SECRET. For development and
// tests; in production an identity provider issues tokens.
import { parseArgs } from "node:util";
import { mintToken } from "@greeter/interceptors/server";
import { GREETER_SCOPE } from "./access-policy.js";
import { ConfigError, loadConfig } from "./config.js";

try {
  const { values } = parseArgs({
    options: {
      subject: { type: "string", default: process.env.USER ?? "developer" },
      scope: { type: "string", multiple: true, default: [GREETER_SCOPE] },
      ttl: { type: "string", default: "3600" },
    },
  });
  const config = loadConfig(process.env, []);
  if (config.authJwtSecret === undefined) {
    throw new ConfigError("set AUTH_JWT_SECRET (the server's, at least 32 characters) to sign a token with");
  }
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new ConfigError("--ttl must be a positive whole number");
  const token = await mintToken({
    key: new TextEncoder().encode(config.authJwtSecret),
    subject: values.subject,
    scopes: values.scope,
    ttlSeconds,
    issuer: config.authIssuer,
    audience: config.authAudience,
  });
  process.stdout.write(`${token}\n`);
} catch (e) {
  process.stderr.write(`token: ${(e as Error).message}\n`);
  process.exitCode = 2;
}

import type { Interceptor } from "@connectrpc/connect";

export interface ClientMetadata {
  /** e.g. `greeter-cli`. */
  name: string;
  version: string;
  /** e.g. `desktop`, `mobile`, `server`. */
  device?: string;
  /** e.g. `linux`, `iOS 18`. */
  os?: string;
  /**
   * Sent as `user-agent` where the runtime allows it (Node), and always as
   * `x-user-agent`, which browsers let through (grpc-web's convention).
   * @default `${name}/${version}`
   */
  userAgent?: string;
}

/**
 * Stamps every call, unary and streaming, with who is calling: the
 * `x-client-name`, `x-client-version`, `x-client-device` and `x-client-os`
 * headers and a user agent. The server puts them in its log line.
 */
export function createClientMetadataInterceptor(metadata: ClientMetadata): Interceptor {
  const headers: [string, string][] = [
    ["x-client-name", metadata.name],
    ["x-client-version", metadata.version],
  ];
  if (metadata.device) headers.push(["x-client-device", metadata.device]);
  if (metadata.os) headers.push(["x-client-os", metadata.os]);
  const userAgent = metadata.userAgent ?? `${metadata.name}/${metadata.version}`;
  const inBrowser = typeof (globalThis as { document?: unknown }).document !== "undefined";
  if (!inBrowser) headers.push(["user-agent", userAgent]);
  headers.push(["x-user-agent", userAgent]);
  return (next) => (req) => {
    for (const [key, value] of headers) req.header.set(key, value);
    return next(req);
  };
}

import type { Interceptor } from "@connectrpc/connect";

/**
 * Sends `authorization: Bearer <token>` on every call. `token` may be a
 * function, read on each call, so a login or a refresh takes effect at
 * once; when it gives nothing, the call goes without the header.
 */
export function createBearerTokenInterceptor(token: string | (() => string | undefined)): Interceptor {
  const current = typeof token === "function" ? token : () => token;
  return (next) => (req) => {
    const value = current();
    if (value) req.header.set("authorization", `Bearer ${value}`);
    return next(req);
  };
}

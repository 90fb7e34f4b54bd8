import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";

/** Who the request gate let in, for the interceptors and the implementation. */
export const callerKey = createContextKey<string | undefined>(undefined, { description: "kv caller" });

/**
 * A request gate (connect-es's `requestGate`, the place it recommends for
 * authentication): it runs on the request's headers before any of its body
 * is read, and refuses a call whose bearer token it does not know.
 */
export function createTokenGate(callers: ReadonlyMap<string, string>): (ctx: HandlerContext) => void {
  return (ctx) => {
    const token = /^Bearer (.+)$/.exec(ctx.requestHeader.get("authorization") ?? "")?.[1];
    const caller = token === undefined ? undefined : callers.get(token);
    if (caller === undefined) {
      throw new ConnectError("a known bearer token is required", Code.Unauthenticated);
    }
    ctx.values.set(callerKey, caller);
  };
}

/**
 * Names, in the response header `kv-caller`, whom the gate let in, and
 * tells `seen` the procedure of every call that reached the interceptors.
 */
export function createCallerEchoInterceptor(seen: (procedure: string) => void): Interceptor {
  return (next) => async (req) => {
    seen(req.method.name);
    const res = await next(req);
    res.header.set("kv-caller", req.contextValues.get(callerKey) ?? "nobody");
    return res;
  };
}

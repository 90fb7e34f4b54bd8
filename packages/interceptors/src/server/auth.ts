import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import { InvalidTokenError } from "./invalid-token.js";
import type { RequestGate } from "./request-gate.js";

/** Who the call's token says is calling (its `sub`), for handlers and the log. */
export const authSubjectKey = createContextKey<string | undefined>(undefined, { description: "auth subject" });

/** What a valid token grants. */
export interface Principal {
  subject: string;
  scopes: ReadonlySet<string>;
}

/** What a method asks of its callers: nothing, or a token carrying a scope. */
export type Access = { public: true } | { public: false; scope: string };

export interface AuthOptions {
  /**
   * Checks a bearer token; throws if it is not valid. An InvalidTokenError's
   * message reaches the client; any other error only the log.
   */
  verify: (token: string) => Promise<Principal>;
  /** The access rule of each method. */
  access: (method: DescMethod) => Access;
}

const BEARER = /^Bearer ([\w.~+/-]+=*)$/;

/**
 * Checks `authorization: Bearer <token>` against each method's rule, as
 * the router's request gate, so that a call it refuses is answered before
 * a byte of its body is read: UNAUTHENTICATED when a token is needed and
 * missing, when any token sent is not valid (even to a public method: a bad
 * credential is never ignored), or when more than one `authorization` value
 * came (which one would count is a guess an attacker could steer);
 * PERMISSION_DENIED when a valid token lacks the method's scope. Error
 * messages say what is wrong in our words, never the token nor the JWT
 * library's wording (that goes to the log, as the error's cause). The
 * token's subject is put in the call's context values (`authSubjectKey`).
 */
export function createAuthGate(options: AuthOptions): RequestGate {
  const accessOf = new Map<DescMethod, Access>();
  const checked = async (context: HandlerContext, header: string, access: Access): Promise<void> => {
    // Repeated fields arrive joined with ", " (as Fetch's Headers holds
    // them; the server's one-port keeps the ones Node would drop), and a
    // comma is never part of a bearer token.
    if (header.includes(",")) {
      throw new ConnectError(
        "more than one authorization value was sent: send exactly one 'Bearer <token>'",
        Code.Unauthenticated,
      );
    }
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) {
      throw new ConnectError("the authorization header must be 'Bearer <token>'", Code.Unauthenticated);
    }
    let principal: Principal;
    try {
      principal = await options.verify(token);
    } catch (e) {
      const reason = e instanceof InvalidTokenError ? e.message : "it was rejected";
      throw new ConnectError(`the bearer token is not valid: ${reason}`, Code.Unauthenticated, undefined, undefined, e);
    }
    const { method } = context;
    if (!access.public && !principal.scopes.has(access.scope)) {
      throw new ConnectError(
        `${principal.subject} may not call ${method.parent.name}.${method.name}: the token lacks scope "${access.scope}"`,
        Code.PermissionDenied,
      );
    }
    context.values.set(authSubjectKey, principal.subject);
  };
  // Not async: a call without a token to a public method (most calls) goes
  // straight on, without a promise and a microtask of its own.
  return (context) => {
    const { method } = context;
    let access = accessOf.get(method);
    if (!access) {
      access = options.access(method);
      accessOf.set(method, access);
    }
    const header = context.requestHeader.get("authorization");
    if (header !== null) return checked(context, header, access);
    if (access.public) return;
    throw new ConnectError(
      `${method.parent.name}.${method.name} needs a bearer token (authorization: Bearer <token>)`,
      Code.Unauthenticated,
    );
  };
}

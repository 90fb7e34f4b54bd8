import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { InvalidTokenError } from "./invalid-token.js";

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
 * Checks `authorization: Bearer <token>` against each method's rule:
 * UNAUTHENTICATED when a token is needed and missing, when any token sent
 * is not valid (even to a public method: a bad credential is never ignored),
 * or when more than one `authorization` value came (which one would count
 * is a guess an attacker could steer); PERMISSION_DENIED when a valid token
 * lacks the method's scope. Error messages say what is wrong in our words,
 * never the token nor the JWT library's wording (that goes to the log, as
 * the error's cause).
 */
export function createAuthInterceptor(options: AuthOptions): Interceptor {
  const accessOf = new Map<DescMethod, Access>();
  return (next) => {
    const checked = async (req: Parameters<typeof next>[0], header: string, access: Access) => {
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
        throw new ConnectError(
          `the bearer token is not valid: ${reason}`,
          Code.Unauthenticated,
          undefined,
          undefined,
          e,
        );
      }
      if (!access.public && !principal.scopes.has(access.scope)) {
        throw new ConnectError(
          `${principal.subject} may not call ${req.method.parent.name}.${req.method.name}: the token lacks scope "${access.scope}"`,
          Code.PermissionDenied,
        );
      }
      req.contextValues.set(authSubjectKey, principal.subject);
      return next(req);
    };
    // Not async: a call without a token to a public method (most calls) goes
    // straight on, without a promise and a microtask of its own.
    return (req) => {
      let access = accessOf.get(req.method);
      if (!access) {
        access = options.access(req.method);
        accessOf.set(req.method, access);
      }
      const header = req.header.get("authorization");
      if (header !== null) return checked(req, header, access);
      if (access.public) return next(req);
      return Promise.reject(
        new ConnectError(
          `${req.method.parent.name}.${req.method.name} needs a bearer token (authorization: Bearer <token>)`,
          Code.Unauthenticated,
        ),
      );
    };
  };
}

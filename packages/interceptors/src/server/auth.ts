import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";

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
  /** Checks a bearer token; throws (any error) if it is not valid. */
  verify: (token: string) => Promise<Principal>;
  /** The access rule of each method. */
  access: (method: DescMethod) => Access;
}

const BEARER = /^Bearer ([\w.~+/-]+=*)$/;

/**
 * Checks `authorization: Bearer <token>` against each method's rule:
 * UNAUTHENTICATED when a token is needed and missing, or when any token sent
 * is not valid (even to a public method: a bad credential is never ignored);
 * PERMISSION_DENIED when a valid token lacks the method's scope. Error
 * messages say what is wrong, never the token.
 */
export function createAuthInterceptor(options: AuthOptions): Interceptor {
  const accessOf = new Map<DescMethod, Access>();
  return (next) => {
    const checked = async (req: Parameters<typeof next>[0], header: string, access: Access) => {
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) {
        throw new ConnectError("the authorization header must be 'Bearer <token>'", Code.Unauthenticated);
      }
      let principal: Principal;
      try {
        principal = await options.verify(token);
      } catch (e) {
        throw new ConnectError(`the bearer token is not valid: ${reasonOf(e)}`, Code.Unauthenticated);
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

function reasonOf(e: unknown): string {
  // jose's messages name the failed check ("signature verification failed",
  // "\"exp\" claim timestamp check failed") and never echo the token.
  return e instanceof Error ? e.message : "rejected";
}

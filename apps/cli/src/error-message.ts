import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, type ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";

/** What the CLI knows of a call when it fails: enough to say what to do next. */
export interface CallContext {
  url: string;
  hasToken: boolean;
}

/**
 * One line for a person: what happened and what to do, then the gRPC code
 * in parentheses for scripts and searches. The exit code (1) stays the same.
 */
export function describeRpcError(err: ConnectError, call: CallContext): string {
  return `${sentence(err, call)} (${codeToString(err.code)})`;
}

function sentence(err: ConnectError, call: CallContext): string {
  switch (err.code) {
    case Code.InvalidArgument: {
      const violations = err
        .findDetails(ViolationsSchema)
        .flatMap((v) => v.violations)
        .map((v) => `${v.field?.elements.map((e) => e.fieldName).join(".") ?? ""} ${v.message}`.trim());
      return violations.length > 0 ? `${violations.join("; ")}: fix it and try again` : err.rawMessage;
    }
    case Code.Unavailable:
      return `cannot reach the server at ${call.url}: is it running? Use --url or GREETER_URL for another`;
    case Code.DeadlineExceeded:
      return "the server did not answer in time: try again, or allow more time with --timeout MS";
    case Code.Unauthenticated:
      if (!call.hasToken) {
        return "this server needs a token: pass --token TOKEN or set GREETER_TOKEN (`pnpm mint-token` makes one for a dev server)";
      }
      return /"exp"|expired/i.test(err.rawMessage)
        ? "the token has expired: get a new one and pass it with --token"
        : `the server refused the token (${err.rawMessage})`;
    case Code.PermissionDenied:
      return `the token does not allow this call (${err.rawMessage})`;
    case Code.ResourceExhausted:
      return `${err.rawMessage}: wait a moment and try again`;
    default:
      return err.rawMessage;
  }
}

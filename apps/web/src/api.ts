import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { createBearerTokenInterceptor, createClientMetadataInterceptor } from "@greeter/interceptors";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { createLazyInterceptor } from "./lazy-interceptor.js";
import { accessToken } from "./token.js";

/**
 * Where the API lives. In development the page comes from Vite and the API
 * from the Greeter server on its own port (CORS allows it); a production
 * build is served by the Greeter server itself, so the page's own origin.
 */
export const apiUrl: string =
  import.meta.env.VITE_API_URL || (import.meta.env.DEV ? "http://localhost:50051" : window.location.origin);

/**
 * The Greeter client, speaking binary gRPC-Web straight to the server: no
 * proxy. Every call says who is calling (the server logs it), carries the
 * access token if there is one, and a W3C traceparent (see tracing.ts).
 * The OpenTelemetry SDK loads with the first call, not with the page; this
 * module itself loads after the page has shown itself (see lazy-api.ts).
 */
export const greeter = createClient(
  Greeter,
  createGrpcWebTransport({
    baseUrl: apiUrl,
    interceptors: [
      createClientMetadataInterceptor({
        name: "greeter-web",
        version: import.meta.env.VITE_APP_VERSION || "dev",
        device: "browser",
        os: navigator.platform || undefined,
      }),
      createBearerTokenInterceptor(accessToken.get),
      createLazyInterceptor(async () => {
        const [{ setupTracing }, { createClientTracingInterceptor }] = await Promise.all([
          import("./tracing.js"),
          import("@greeter/interceptors/client-tracing"),
        ]);
        setupTracing(import.meta.env.VITE_OTEL_EXPORTER_OTLP_ENDPOINT || undefined);
        return createClientTracingInterceptor({ protocol: "grpc-web" });
      }),
    ],
  }),
);

/** How the page names the request fields the server may reject. */
const FIELD_LABELS: Record<string, string> = { name: "Name" };

/**
 * What the server said about each field it rejected: the protovalidate
 * violations (buf.validate.Violations) of an INVALID_ARGUMENT error, as
 * sentences by field name, e.g. "name" → "Name must not be empty". Their
 * schema loads with the first such error (see validate-options-stub.ts).
 */
export async function fieldViolations(e: unknown): Promise<Map<string, string>> {
  const err = ConnectError.from(e);
  const byField = new Map<string, string>();
  if (err.code !== Code.InvalidArgument) return byField;
  const { ViolationsSchema } = await import("@bufbuild/protovalidate/gen/buf/validate/validate_pb.js");
  for (const { violations } of err.findDetails(ViolationsSchema)) {
    for (const violation of violations) {
      const field = violation.field?.elements.map((element) => element.fieldName).join(".") ?? "";
      if (!byField.has(field)) byField.set(field, `${FIELD_LABELS[field] ?? field} ${violation.message}`.trim());
    }
  }
  return byField;
}

/** A message a person can act on, for any error a call can end with: what happened, and what to do. */
export async function describeError(e: unknown): Promise<string> {
  const err = ConnectError.from(e);
  switch (err.code) {
    case Code.InvalidArgument: {
      const violations = await fieldViolations(err);
      if (violations.size > 0) return [...violations.values()].join(". ");
      return err.rawMessage.charAt(0).toUpperCase() + err.rawMessage.slice(1);
    }
    case Code.Unauthenticated:
      if (!accessToken.get()) return "This server needs an access token: paste one under Access token.";
      return /"exp"|expired/i.test(err.rawMessage)
        ? "Your access token has expired: paste a new one under Access token."
        : "The server refused your access token. Check it under Access token.";
    case Code.PermissionDenied:
      return "Your access token does not allow greeting. Ask for one with the greeter.greet scope.";
    case Code.DeadlineExceeded:
      return "The server took too long to answer. Please try again.";
    case Code.ResourceExhausted:
      return "The server is busy, or the request is too large. Wait a moment and try again.";
    case Code.Unavailable:
      return `Cannot reach the server at ${apiUrl}. Is it running?`;
    case Code.Canceled:
      return "The call was cancelled.";
    case Code.Unknown:
      // fetch() fails with a TypeError when the server is down or CORS refuses.
      if (/fetch|network/i.test(err.rawMessage)) return `Cannot reach the server at ${apiUrl}. Is it running?`;
      return "Something went wrong on the server. Please try again.";
    default:
      return "Something went wrong on the server. Please try again.";
  }
}

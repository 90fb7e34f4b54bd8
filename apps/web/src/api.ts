import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";

/**
 * Where the API lives. In development the page comes from Vite and the API
 * from the Greeter server on its own port (CORS allows it); a production
 * build is served by the Greeter server itself, so the page's own origin.
 */
export const apiUrl: string =
  import.meta.env.VITE_API_URL || (import.meta.env.DEV ? "http://localhost:50051" : window.location.origin);

/** The Greeter client, speaking binary gRPC-Web straight to the server: no proxy. */
export const greeter = createClient(Greeter, createGrpcWebTransport({ baseUrl: apiUrl }));

/** A message a person can act on, for any error a call can end with. */
export function describeError(e: unknown): string {
  const err = ConnectError.from(e);
  switch (err.code) {
    case Code.InvalidArgument:
      return err.rawMessage.charAt(0).toUpperCase() + err.rawMessage.slice(1);
    case Code.DeadlineExceeded:
      return "The server took too long to answer. Please try again.";
    case Code.Unavailable:
      return `Cannot reach the server at ${apiUrl}. Is it running?`;
    case Code.Unknown:
      // fetch() fails with a TypeError when the server is down or CORS refuses.
      if (/fetch|network/i.test(err.rawMessage)) return `Cannot reach the server at ${apiUrl}. Is it running?`;
      return `Something went wrong: ${err.rawMessage}`;
    default:
      return `Something went wrong (${Code[err.code]}): ${err.rawMessage}`;
  }
}

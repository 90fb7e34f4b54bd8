// Google's grpc-web runtime in a real browser, calling the Greeter server
// that served this page. The browser test drives it through window.grpcWeb.
import { GrpcWebClientBase, type Metadata, type RpcError } from "grpc-web";
import {
  greetMethod,
  greetRequest,
  greetStreamMethod,
  greetStreamRequest,
} from "../../../server/test/interop/grpc-web-descriptors.js";

type Format = "text" | "binary";

export interface StreamResult {
  greetings: string[];
  /** When each greeting reached the page, in ms since the call began. */
  arrivals: number[];
  code: number;
  message: string;
}

const api = {
  greet(format: Format, name: string): Promise<{ greeting?: string; code: number; message: string }> {
    return new Promise((resolve) => {
      new GrpcWebClientBase({ format }).rpcCall(
        `${location.origin}${greetMethod.getName()}`,
        greetRequest(name),
        {},
        greetMethod,
        (error: RpcError | null, response) =>
          resolve(
            error
              ? { code: error.code, message: error.message }
              : { greeting: response.greeting, code: 0, message: "" },
          ),
      );
    });
  },

  stream(format: Format, count: number, intervalMs: number, deadlineMs?: number): Promise<StreamResult> {
    return new Promise((resolve) => {
      const start = performance.now();
      const result: StreamResult = { greetings: [], arrivals: [], code: 0, message: "" };
      const metadata: Metadata = deadlineMs === undefined ? {} : { deadline: String(Date.now() + deadlineMs) };
      const call = new GrpcWebClientBase({ format }).serverStreaming(
        `${location.origin}${greetStreamMethod.getName()}`,
        greetStreamRequest("Ada", count, intervalMs),
        metadata,
        greetStreamMethod,
      );
      call.on("data", (res) => {
        result.greetings.push(res.greeting);
        result.arrivals.push(performance.now() - start);
      });
      call.on("error", (error) => resolve({ ...result, code: error.code, message: error.message }));
      call.on("end", () => resolve(result));
    });
  },
};

declare global {
  interface Window {
    grpcWeb: typeof api;
  }
}
window.grpcWeb = api;

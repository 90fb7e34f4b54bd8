import type { Interceptor } from "@connectrpc/connect";
import { context, propagation, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { type RpcProtocol, rpcSystemOf, serverAddressOf } from "../rpc-conventions.js";
import { headersSetter, rpcSpanStart, traced } from "../rpc-span.js";
import { emitsStable, type RpcSemconv } from "../semconv-mode.js";

export interface ClientTracingOptions {
  /** @default the global tracer provider's "@greeter/interceptors" tracer */
  tracer?: Tracer;
  /**
   * The protocol of the transport, which names the spans' RPC system:
   * `grpc` for gRPC and gRPC-Web, Connect RPC for `connect`.
   * @default "grpc"
   */
  protocol?: RpcProtocol;
  /**
   * Which RPC conventions the spans follow (see semconv-mode.ts). This
   * package also runs in browsers, so it reads no environment: a Node
   * program passes `rpcSemconvFromOptIn(process.env.OTEL_SEMCONV_STABILITY_OPT_IN)`.
   * @default "old", what the spans have always carried
   */
  semconv?: RpcSemconv;
}

/**
 * A CLIENT span per RPC, child of whatever span is active, with its W3C
 * `traceparent` sent to the server so the server's span joins the trace.
 * Stable spans also name the server the call goes to (`server.address`,
 * `server.port`, from the transport's base URL).
 */
export function createClientTracingInterceptor(options: ClientTracingOptions = {}): Interceptor {
  const tracer = options.tracer ?? trace.getTracer("@greeter/interceptors");
  const semconv = options.semconv ?? "old";
  const conventions = { system: rpcSystemOf(options.protocol ?? "grpc"), semconv, side: "client" } as const;
  return (next) => async (req) => {
    const server = emitsStable(semconv) ? serverAddressOf(req.url) : undefined;
    const { name, attributes } = rpcSpanStart(req, conventions, server);
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
    propagation.inject(trace.setSpan(context.active(), span), req.header, headersSetter);
    return traced(span, conventions, () => next(req));
  };
}

import type { DescService } from "@bufbuild/protobuf";
import { type ConnectRouter, createServiceImplSpec, type ServiceImpl } from "@connectrpc/connect";
import { Health, type HealthService } from "@greeter/grpc-health";
import { addReflectionServices } from "@greeter/grpc-reflection";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import type { ServerStreamRoute } from "./fast-path/server-stream-chain.js";
import type { UnaryRoute } from "./fast-path/unary-call.js";
import { createGreeterService } from "./services/greeter-service.js";

export interface RoutesDeps {
  health: HealthService;
}

interface Registration<S extends DescService = DescService> {
  service: S;
  impl: Partial<ServiceImpl<S>>;
}

/** Every RPC service the server offers, and the implementation of each. */
export interface Routes {
  /** Registers them on a Connect router (every protocol, every method kind). */
  register(router: ConnectRouter): void;
  /** The unary methods, for the fast paths: the same implementations. */
  unary: UnaryRoute[];
  /** The server-streaming methods, for the gRPC streaming fast path. */
  serverStreaming: ServerStreamRoute[];
}

const registration = <S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): Registration =>
  ({ service, impl }) as Registration;

export function createRoutes({ health }: RoutesDeps): Routes {
  const services = [registration(Greeter, createGreeterService()), registration(Health, health.impl)];
  const unary: UnaryRoute[] = [];
  const serverStreaming: ServerStreamRoute[] = [];
  for (const { service, impl } of services) {
    for (const spec of Object.values(createServiceImplSpec(service, impl).methods)) {
      if (spec.kind === "unary") unary.push({ method: spec.method, impl: spec.impl as UnaryRoute["impl"] });
      if (spec.kind === "server_streaming") {
        serverStreaming.push({ method: spec.method, impl: spec.impl as ServerStreamRoute["impl"] });
      }
    }
  }
  return {
    register(router) {
      for (const { service, impl } of services) router.service(service, impl);
      // Last, so reflection describes everything above and itself.
      addReflectionServices(router);
    },
    unary,
    serverStreaming,
  };
}

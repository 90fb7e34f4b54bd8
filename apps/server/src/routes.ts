import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { Health, type HealthService } from "@greeter/grpc-health";
import { addReflectionServices } from "@greeter/grpc-reflection";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { createGreeterService } from "./services/greeter-service.js";

export interface RoutesDeps {
  health: HealthService;
  /** Serve gRPC server reflection (REFLECTION is not "off"). Default: true. */
  reflection?: boolean;
}

interface Registration<S extends DescService = DescService> {
  service: S;
  impl: Partial<ServiceImpl<S>>;
}

/** Every RPC service the server offers, and the implementation of each. */
export interface Routes {
  /** Registers them on a Connect router: connect-fastify's and the fast path's alike. */
  register(router: ConnectRouter): void;
}

const registration = <S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): Registration =>
  ({ service, impl }) as Registration;

export function createRoutes({ health, reflection = true }: RoutesDeps): Routes {
  const services = [registration(Greeter, createGreeterService()), registration(Health, health.impl)];
  return {
    register(router) {
      for (const { service, impl } of services) router.service(service, impl);
      // Last, so reflection describes everything above and itself. Off, its
      // methods are unknown paths: UNIMPLEMENTED, as for any other.
      if (reflection) addReflectionServices(router);
    },
  };
}

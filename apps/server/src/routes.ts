import type { ConnectRouter } from "@connectrpc/connect";
import { Health, type HealthService } from "@greeter/grpc-health";
import { addReflectionServices } from "@greeter/grpc-reflection";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { createGreeterService } from "./services/greeter-service.js";

export interface RoutesDeps {
  health: HealthService;
}

/** Every RPC service the server offers, registered on one Connect router. */
export function createRoutes({ health }: RoutesDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(Greeter, createGreeterService());
    router.service(Health, health.impl);
    // Last, so reflection describes everything above and itself.
    addReflectionServices(router);
  };
}

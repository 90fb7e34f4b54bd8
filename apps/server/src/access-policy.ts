import type { DescMethod } from "@bufbuild/protobuf";
import type { Access } from "@greeter/interceptors/server";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { ServerReflection } from "@greeter/proto/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "@greeter/proto/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServerConfig } from "./config.js";

/** The scope a token needs for the Greeter methods when AUTH_REQUIRED=true, and for reflection when REFLECTION=auth. */
export const GREETER_SCOPE = "greeter.greet";

const PUBLIC: Access = { public: true };
const NEEDS_GREETER_SCOPE: Access = { public: false, scope: GREETER_SCOPE };
const REFLECTION_SERVICES = new Set([ServerReflection.typeName, ServerReflectionV1alpha.typeName]);

/**
 * Who may call what. Health is always public: balancers and probes call it
 * without credentials. Greeter is public unless `authRequired`. Reflection
 * is public unless `reflection` is "auth": then it asks for the token a
 * Greeter call needs, since whoever may call the API may read its schema
 * (with "off" it is not served at all).
 */
export function accessPolicy(
  config: Pick<ServerConfig, "authRequired" | "reflection">,
): (method: DescMethod) => Access {
  return (method) => {
    const service = method.parent.typeName;
    if (service === Greeter.typeName) return config.authRequired ? NEEDS_GREETER_SCOPE : PUBLIC;
    if (REFLECTION_SERVICES.has(service)) return config.reflection === "auth" ? NEEDS_GREETER_SCOPE : PUBLIC;
    return PUBLIC;
  };
}

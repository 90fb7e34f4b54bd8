import type { DescMethod } from "@bufbuild/protobuf";
import type { Access } from "@greeter/interceptors/server";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";

/** The scope a token needs for the Greeter methods when AUTH_REQUIRED=true. */
export const GREETER_SCOPE = "greeter.greet";

const PUBLIC: Access = { public: true };

/**
 * Who may call what. Health and reflection are always public: balancers,
 * probes and tools like grpcurl call them without credentials. Greeter is
 * public unless `authRequired`.
 */
export function accessPolicy(authRequired: boolean): (method: DescMethod) => Access {
  return (method) =>
    authRequired && method.parent.typeName === Greeter.typeName ? { public: false, scope: GREETER_SCOPE } : PUBLIC;
}

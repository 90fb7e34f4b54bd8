import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/**
 * The API contract compiled, with its imports (protovalidate's
 * validate.proto among them): independent clients build their stubs from
 * it, as they would from the .proto files plus their imports. See
 * packages/proto/scripts/build-image.ts.
 */
export const GREETER_DESCRIPTOR_SET = fileURLToPath(
  new URL("../../../../packages/proto/descriptors/greeter.binpb", import.meta.url),
);

/** The official health.proto, as the grpc-health-check npm package ships it. */
export const HEALTH_PROTO = join(
  dirname(require.resolve("grpc-health-check/package.json")),
  "proto/health/v1/health.proto",
);

/** The official reflection protos, as @grpc/reflection ships them. */
export const REFLECTION_PROTO_ROOT = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto");

/** The buf CLI from the @bufbuild/buf npm package. */
export const BUF = fileURLToPath(new URL("../../../../node_modules/.bin/buf", import.meta.url));

/** grpcurl, built pinned into .tools/bin by scripts/setup.mjs --test (scripts/tools.json). */
export const GRPCURL = fileURLToPath(new URL("../../../../.tools/bin/grpcurl", import.meta.url));

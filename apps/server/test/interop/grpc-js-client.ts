import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { GREETER_DESCRIPTOR_SET, HEALTH_PROTO } from "./proto-paths.js";

// grpc-js is an independent gRPC implementation: its stubs come from our
// compiled contract (or a .proto file) at run time, not from the code the
// server uses.
const loaderOptions = { keepCase: false, longs: Number, enums: String, defaults: true };

/**
 * The greeter.v1 package definition, from the descriptor set (proto-loader).
 * Loaded from descriptors, fields keep their proto names: `interval_ms`.
 */
export function loadGreeterDefinition(options: protoLoader.Options = loaderOptions): protoLoader.PackageDefinition {
  return protoLoader.loadFileDescriptorSetFromBuffer(readFileSync(GREETER_DESCRIPTOR_SET), options);
}
export type Stub = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type StubConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => Stub;

function serviceOf(definition: protoLoader.PackageDefinition, path: string[]): StubConstructor {
  let node: unknown = grpc.loadPackageDefinition(definition);
  for (const part of path) node = (node as Record<string, unknown>)[part];
  return node as StubConstructor;
}

export const GreeterStub = serviceOf(loadGreeterDefinition(), ["greeter", "v1", "Greeter"]);
export const HealthStub = serviceOf(protoLoader.loadSync(HEALTH_PROTO, loaderOptions), [
  "grpc",
  "health",
  "v1",
  "Health",
]);

export function unary<Res>(
  stub: Stub,
  method: string,
  request: object,
  deadlineMs = 5_000,
  metadata = new grpc.Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    stub[method]?.(
      request,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)),
    );
  });
}

export function collect<Res>(
  call: grpc.ClientReadableStream<Res> | grpc.ClientDuplexStream<unknown, Res>,
): Promise<Res[]> {
  return new Promise((resolve, reject) => {
    const got: Res[] = [];
    call.on("data", (res: Res) => got.push(res));
    call.on("error", reject);
    call.on("end", () => resolve(got));
  });
}

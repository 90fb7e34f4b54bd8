import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { GREETER_PROTO, HEALTH_PROTO } from "./proto-paths.js";

// grpc-js is an independent gRPC implementation: its stubs come from our
// .proto files at run time, not from the code the server uses.
const loaderOptions = { keepCase: false, longs: Number, enums: String, defaults: true };
export type Stub = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type StubConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => Stub;

export function loadService(protoFile: string, path: string[]): StubConstructor {
  let node: unknown = grpc.loadPackageDefinition(protoLoader.loadSync(protoFile, loaderOptions));
  for (const part of path) node = (node as Record<string, unknown>)[part];
  return node as StubConstructor;
}

export const GreeterStub = loadService(GREETER_PROTO, ["greeter", "v1", "Greeter"]);
export const HealthStub = loadService(HEALTH_PROTO, ["grpc", "health", "v1", "Health"]);

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

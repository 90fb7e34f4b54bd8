import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type GreetingRequest,
  GreetingRequestSchema,
  type GreetingResponse,
  GreetingResponseSchema,
  type GreetStreamRequest,
  GreetStreamRequestSchema,
} from "@greeter/proto/greeter/v1/greeter_pb.js";
import { MethodDescriptor } from "grpc-web";

// protoc-gen-grpc-web cannot be installed here (its npm install downloads a
// binary), so the method descriptors it would generate are written by hand
// around the @bufbuild/protobuf message types. Google's grpc-web runtime
// only needs a name, a kind, and how to turn messages into bytes and back.
// Shared by the Node test and the Chromium test page.
type Ctor<T> = new (...args: unknown[]) => T;

export const greetMethod = new MethodDescriptor<GreetingRequest, GreetingResponse>(
  "/greeter.v1.Greeter/Greet",
  "unary",
  Object as unknown as Ctor<GreetingRequest>,
  Object as unknown as Ctor<GreetingResponse>,
  (req: GreetingRequest) => toBinary(GreetingRequestSchema, req),
  (bytes: Uint8Array) => fromBinary(GreetingResponseSchema, bytes),
);

export const greetStreamMethod = new MethodDescriptor<GreetStreamRequest, GreetingResponse>(
  "/greeter.v1.Greeter/GreetStream",
  "server_streaming",
  Object as unknown as Ctor<GreetStreamRequest>,
  Object as unknown as Ctor<GreetingResponse>,
  (req: GreetStreamRequest) => toBinary(GreetStreamRequestSchema, req),
  (bytes: Uint8Array) => fromBinary(GreetingResponseSchema, bytes),
);

export const greetRequest = (name: string): GreetingRequest => ({ $typeName: "greeter.v1.GreetingRequest", name });

export const greetStreamRequest = (name: string, count: number, intervalMs: number): GreetStreamRequest => ({
  $typeName: "greeter.v1.GreetStreamRequest",
  name,
  count,
  intervalMs,
});

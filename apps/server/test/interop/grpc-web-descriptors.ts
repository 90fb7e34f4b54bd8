import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import {
  type GreetingRequest,
  GreetingRequestSchema,
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

function descriptor<I extends DescMessage, O extends DescMessage>(
  path: string,
  kind: "unary" | "server_streaming",
  input: I,
  output: O,
): MethodDescriptor<MessageShape<I>, MessageShape<O>> {
  return new MethodDescriptor<MessageShape<I>, MessageShape<O>>(
    path,
    kind,
    Object as unknown as Ctor<MessageShape<I>>,
    Object as unknown as Ctor<MessageShape<O>>,
    (req: MessageShape<I>) => toBinary(input, req),
    (bytes: Uint8Array) => fromBinary(output, bytes),
  );
}

export const greetMethod = descriptor(
  "/greeter.v1.Greeter/Greet",
  "unary",
  GreetingRequestSchema,
  GreetingResponseSchema,
);
export const greetStreamMethod = descriptor(
  "/greeter.v1.Greeter/GreetStream",
  "server_streaming",
  GreetStreamRequestSchema,
  GreetingResponseSchema,
);

export const greetRequest = (name: string): GreetingRequest => ({ $typeName: "greeter.v1.GreetingRequest", name });

export const greetStreamRequest = (name: string, count: number, intervalMs: number): GreetStreamRequest => ({
  $typeName: "greeter.v1.GreetStreamRequest",
  name,
  count,
  intervalMs,
});

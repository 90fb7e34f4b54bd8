import {
  create,
  type DescMessage,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

// grpc-js is an independent gRPC implementation (its own HTTP/2 client,
// framing, deadlines and metadata). Only the message bytes come from
// protobuf-es, so that no stub is loaded from the .proto a second way.

/** A grpc-js client for a server at `url` (http://host:port, cleartext HTTP/2). */
export function createGrpcJsClient(url: string): grpc.Client {
  return new grpc.Client(new URL(url).host, grpc.credentials.createInsecure());
}

/** What a grpc-js unary call got: the answer and the response headers. */
export interface GrpcJsAnswer<O extends DescMessage> {
  message: MessageShape<O>;
  headers: grpc.Metadata;
}

export function grpcJsUnary<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethodUnary<I, O>,
  input: MessageInitShape<I>,
  metadata: Record<string, string> = {},
): Promise<GrpcJsAnswer<O>> {
  return new Promise((resolve, reject) => {
    let headers = new grpc.Metadata();
    const call = client.makeUnaryRequest(
      pathOf(method),
      serializer(method.input),
      deserializer(method.output),
      create(method.input, input),
      metadataOf(metadata),
      { deadline: Date.now() + 10_000 },
      (err, message) => {
        if (message === undefined) reject(err ?? new Error("grpc-js gave neither an answer nor an error"));
        else resolve({ message, headers });
      },
    );
    call.on("metadata", (m) => {
      headers = m;
    });
  });
}

/**
 * Reads a server stream to its end, each message given to `onMessage`,
 * with a deadline `deadlineMs` from now; rejects with the call's error.
 */
export function grpcJsServerStream<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethodServerStreaming<I, O>,
  input: MessageInitShape<I>,
  metadata: Record<string, string>,
  deadlineMs: number,
  onMessage: (message: MessageShape<O>) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = client.makeServerStreamRequest(
      pathOf(method),
      serializer(method.input),
      deserializer(method.output),
      create(method.input, input),
      metadataOf(metadata),
      { deadline: Date.now() + deadlineMs },
    );
    call.on("data", onMessage);
    call.on("error", reject);
    call.on("end", resolve);
  });
}

const pathOf = (method: { parent: { typeName: string }; name: string }): string =>
  `/${method.parent.typeName}/${method.name}`;

const serializer =
  <D extends DescMessage>(schema: D) =>
  (message: MessageShape<D>): Buffer =>
    Buffer.from(toBinary(schema, message));

const deserializer =
  <D extends DescMessage>(schema: D) =>
  (bytes: Buffer): MessageShape<D> =>
    fromBinary(schema, bytes);

function metadataOf(entries: Record<string, string>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

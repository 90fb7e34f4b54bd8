import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFileRegistry, type DescFile, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { ServerReflection } from "@greeter/proto/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "@greeter/proto/grpc/reflection/v1alpha/reflection_pb.js";
import { addReflectionServices } from "./reflection-service.js";

const transport = createRouterTransport((router) => {
  router.service(Greeter, {});
  addReflectionServices(router);
});

async function ask(
  requests: Parameters<ReturnType<typeof createClient<typeof ServerReflection>>["serverReflectionInfo"]>[0],
) {
  const client = createClient(ServerReflection, transport);
  const responses = [];
  for await (const res of client.serverReflectionInfo(requests)) responses.push(res);
  return responses;
}

async function* one<T>(item: T) {
  yield item;
}

describe("server reflection", () => {
  it("describes a symbol with descriptors a client can rebuild the schema from", async () => {
    const [res] = await ask(
      one({ messageRequest: { case: "fileContainingSymbol", value: "greeter.v1.Greeter.Greet" } }),
    );
    assert.ok(res?.messageResponse.case === "fileDescriptorResponse");
    const files = res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
    const [greeter] = files;
    assert.equal(greeter?.name, "greeter/v1/greeter.proto");
    // Its imports come along (protovalidate's rules, and what they import).
    const byName = new Map(files.map((f) => [f.name, f]));
    assert.ok(byName.has("buf/validate/validate.proto") && byName.has("google/protobuf/descriptor.proto"));
    const registry = createFileRegistry(greeter, (name) => byName.get(name));
    assert.deepEqual(
      registry.getService("greeter.v1.Greeter")?.methods.map((m) => m.name),
      ["Greet", "GreetStream", "GreetEveryone", "Chat", "UploadVoiceGreeting"],
    );
    assert.ok(registry.getMessage("greeter.v1.GreetingRequest")?.fields.some((f) => f.name === "name"));
  });

  it("does not resend files within one stream, but sends a requested file again", async () => {
    async function* twice() {
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: "greeter.v1.GreetingRequest" } };
      yield { messageRequest: { case: "fileByFilename" as const, value: "greeter/v1/greeter.proto" } };
    }
    const responses = await ask(twice());
    const counts = responses.map((r) =>
      r.messageResponse.case === "fileDescriptorResponse" ? r.messageResponse.value.fileDescriptorProto.length : -1,
    );
    // greeter.proto with all it imports, then greeter.proto alone: the client has the imports.
    const closure = new Set<string>();
    const visit = (f: DescFile): void => {
      if (closure.has(f.name)) return;
      closure.add(f.name);
      for (const dependency of f.dependencies) visit(dependency);
    };
    visit(Greeter.file);
    assert.ok(closure.size > 1);
    assert.deepEqual(counts, [closure.size, 1]);
  });

  it("answers NOT_FOUND for unknown symbols and files, and keeps the stream open", async () => {
    async function* queries() {
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: "greeter.v1.Greeter.Shout" } };
      yield { messageRequest: { case: "fileByFilename" as const, value: "nope.proto" } };
      yield { messageRequest: { case: "listServices" as const, value: "" } };
    }
    const [symbol, file, list] = await ask(queries());
    assert.deepEqual(symbol?.messageResponse.value, {
      $typeName: "grpc.reflection.v1.ErrorResponse",
      errorCode: 5,
      errorMessage: 'symbol "greeter.v1.Greeter.Shout" not found',
    });
    assert.equal(file?.messageResponse.case, "errorResponse");
    assert.equal(list?.messageResponse.case, "listServicesResponse");
  });

  it("v1alpha answers the same as v1", async () => {
    const client = createClient(v1alpha.ServerReflection, transport);
    const got = [];
    for await (const res of client.serverReflectionInfo(one({ messageRequest: { case: "listServices", value: "" } }))) {
      got.push(res);
    }
    const [res] = got;
    assert.ok(res?.messageResponse.case === "listServicesResponse");
    const names = res.messageResponse.value.service.map((s) => s.name);
    assert.deepEqual(names, [
      "greeter.v1.Greeter",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });
});

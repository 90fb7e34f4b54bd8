// The grpc-node reference: @grpc/grpc-js with stubs loaded from our compiled proto.
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const image = readFileSync(new URL("../../packages/proto/descriptors/greeter.binpb", import.meta.url));
const pkg = grpc.loadPackageDefinition(protoLoader.loadFileDescriptorSetFromBuffer(image)) as unknown as {
  greeter: { v1: { Greeter: { service: grpc.ServiceDefinition } } };
};
const server = new grpc.Server();
server.addService(pkg.greeter.v1.Greeter.service, {
  greet(call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
    callback(null, { greeting: `Hello, ${call.request.name}!`, language: "en" });
  },
  greetStream(call: grpc.ServerWritableStream<{ name: string; count: number }, unknown>) {
    for (let i = 0; i < call.request.count; i++)
      call.write({ greeting: `Hello, ${call.request.name}! (${i})`, language: "en" });
    call.end();
  },
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log(`PORT ${port}`);
});

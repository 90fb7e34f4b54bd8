// The Node ceiling: a bare node:http2 server that parses the gRPC frame by
// hand and answers Greet. No framework, no validation, no interceptors.
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GreetingRequestSchema, GreetingResponseSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";

const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on("stream", (stream) => {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", () => {
    const body = Buffer.concat(chunks);
    const req = fromBinary(GreetingRequestSchema, body.subarray(5));
    const msg = toBinary(
      GreetingResponseSchema,
      create(GreetingResponseSchema, { greeting: `Hello, ${req.name}!`, language: "en" }),
    );
    const frame = Buffer.alloc(5 + msg.length);
    frame.writeUInt32BE(msg.length, 1);
    frame.set(msg, 5);
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(frame);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") console.log(`PORT ${address.port}`);
});

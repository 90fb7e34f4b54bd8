// The Node ceiling: a bare node:http2 server that parses the gRPC frame by
// hand and answers Greet, and GreetStream with every message written in one
// loop. No framework, no validation, no interceptors, no backpressure.
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  GreetingRequestSchema,
  GreetingResponseSchema,
  GreetStreamRequestSchema,
} from "@greeter/proto/greeter/v1/greeter_pb.js";

function frame(greeting: string): Buffer {
  const msg = toBinary(GreetingResponseSchema, create(GreetingResponseSchema, { greeting, language: "en" }));
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt32BE(msg.length, 1);
  out.set(msg, 5);
  return out;
}

const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on("stream", (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", () => {
    const body = Buffer.concat(chunks).subarray(5);
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    if (headers[":path"] === "/greeter.v1.Greeter/GreetStream") {
      const req = fromBinary(GreetStreamRequestSchema, body);
      for (let i = 0; i < req.count; i++) stream.write(frame(`Hello, ${req.name}! (${i})`));
      stream.end();
      return;
    }
    const req = fromBinary(GreetingRequestSchema, body);
    stream.end(frame(`Hello, ${req.name}!`));
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") console.log(`PORT ${address.port}`);
});

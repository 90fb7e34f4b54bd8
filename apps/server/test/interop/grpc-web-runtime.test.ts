import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type GreetingResponse,
  GreetingResponseSchema,
  type GreetStreamRequest,
  GreetStreamRequestSchema,
} from "@greeter/proto/greeter/v1/greeter_pb.js";
import type * as GrpcWeb from "grpc-web";
import { startTestServer, type TestServer } from "../testing.js";
import { greetMethod, greetRequest, greetStreamMethod, greetStreamRequest } from "./grpc-web-descriptors.js";

// Google's grpc-web runtime (not connect-web), as browsers run it, on an
// XMLHttpRequest for Node. The runtime is a Closure bundle; it looks for
// XMLHttpRequest on the global object.
const require = createRequire(import.meta.url);
(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = require("xhr2");
const grpcWeb = require("grpc-web") as typeof GrpcWeb;

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

for (const format of ["text", "binary"] as const) {
  describe(`the official grpc-web runtime, ${format === "text" ? "grpcwebtext" : "grpcweb"} mode`, () => {
    const client = () => new grpcWeb.GrpcWebClientBase({ format });

    const unary = (name: string, metadata: GrpcWeb.Metadata = {}) =>
      new Promise<{ response?: GreetingResponse; error?: GrpcWeb.RpcError }>((resolve) => {
        client().rpcCall(
          `${server.url}/greeter.v1.Greeter/Greet`,
          greetRequest(name),
          metadata,
          greetMethod,
          (error, response) => resolve(error ? { error } : { response }),
        );
      });

    const stream = (req: GreetStreamRequest, metadata: GrpcWeb.Metadata = {}) =>
      new Promise<{ got: { greeting: string; at: number }[]; status?: GrpcWeb.Status; error?: GrpcWeb.RpcError }>(
        (resolve) => {
          const got: { greeting: string; at: number }[] = [];
          let status: GrpcWeb.Status | undefined;
          const call = client().serverStreaming(
            `${server.url}/greeter.v1.Greeter/GreetStream`,
            req,
            metadata,
            greetStreamMethod,
          );
          call.on("data", (res) => got.push({ greeting: res.greeting, at: Date.now() }));
          call.on("status", (s) => {
            status = s;
          });
          call.on("error", (error) => resolve({ got, status, error }));
          call.on("end", () => resolve({ got, status }));
        },
      );

    it("Greet answers Hello, <name>!", async () => {
      const { response, error } = await unary("Ada");
      assert.equal(error, undefined);
      assert.equal(response?.greeting, "Hello, Ada!");
      assert.equal(response?.language, "en");
    });

    it("an invalid name brings the status and message to the client", async () => {
      const { error } = await unary(" ");
      assert.equal(error?.code, 3);
      assert.equal(error?.message, "name: must not be empty [name.not_blank]");
    });

    it("GreetStream delivers 5 greetings", async () => {
      const { got, error, status } = await stream(greetStreamRequest("Ada", 5, 150));
      assert.equal(error, undefined);
      assert.equal(status?.code, 0);
      assert.deepEqual(
        got.map((g) => g.greeting),
        ["Hello, Ada!", "Hola, Ada!", "Bonjour, Ada!", "Hallo, Ada!", "Ciao, Ada!"],
      );
    });

    it("a deadline ends a slow stream with DEADLINE_EXCEEDED", async () => {
      const { got, error } = await stream(greetStreamRequest("Ada", 5, 1_000), { deadline: String(Date.now() + 400) });
      assert.equal(error?.code, 4, `got ${JSON.stringify(error)}`);
      assert.ok(got.length < 5);
    });
  });
}

describe("grpc-web-text streams on the wire", () => {
  // xhr2 hands the runtime the body only at the end, so the timing is
  // checked on the socket: each greeting must arrive as its own base64 chunk.
  it("sends each message as it is produced, base64 piece by piece", async () => {
    const frame = (bytes: Uint8Array) => {
      const out = Buffer.alloc(5 + bytes.length);
      out.writeUInt32BE(bytes.length, 1);
      out.set(bytes, 5);
      return out;
    };
    const body = frame(toBinary(GreetStreamRequestSchema, greetStreamRequest("Ada", 4, 150))).toString("base64");
    const chunks = await new Promise<{ text: string; at: number }[]>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/greeter.v1.Greeter/GreetStream`,
        { method: "POST", headers: { "content-type": "application/grpc-web-text", "x-grpc-web": "1" } },
        (res) => {
          const got: { text: string; at: number }[] = [];
          res.setEncoding("latin1");
          res.on("data", (text: string) => got.push({ text, at: Date.now() }));
          res.on("end", () => resolve(got));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    const decoded = chunks.map((c) => Buffer.from(c.text, "base64"));
    const greetings = decoded
      .filter((b) => b[0] === 0)
      .map((b) => fromBinary(GreetingResponseSchema, b.subarray(5)).greeting);
    assert.deepEqual(greetings, ["Hello, Ada!", "Hola, Ada!", "Bonjour, Ada!", "Hallo, Ada!"]);
    assert.equal(decoded.at(-1)?.[0], 0x80, "the trailer frame comes last");
    const spread = (chunks.at(-1)?.at ?? 0) - (chunks[0]?.at ?? 0);
    assert.ok(spread >= 300, `the greetings arrived within ${spread} ms of each other`);
  });

  it("answers malformed base64, a truncated frame and a wrong content-type without harm", async () => {
    const post = async (path: string, contentType: string, body: string) => {
      const res = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": contentType },
        body,
      });
      const text = await res.text();
      return { status: res.status, grpcStatus: res.headers.get("grpc-status"), text };
    };
    const trailerOf = (text: string) => {
      const bytes = Buffer.from(text, "base64");
      return bytes.subarray(5).toString("latin1");
    };
    for (const path of ["/greeter.v1.Greeter/Greet", "/greeter.v1.Greeter/GreetStream"]) {
      const bad = await post(path, "application/grpc-web-text", "not*base64!");
      assert.equal(bad.status, 200);
      assert.match(trailerOf(bad.text), /grpc-status: 3/, path);
      assert.match(decodeURIComponent(trailerOf(bad.text)), /not valid base64/, path);
      const truncated = await post(
        path,
        "application/grpc-web-text",
        Buffer.from([0, 0, 0, 0, 9, 1]).toString("base64"),
      );
      assert.doesNotMatch(trailerOf(truncated.text), /grpc-status: 0/, `${path}: a truncated frame is an error`);
    }
    const wrongType = await post("/greeter.v1.Greeter/Greet", "application/grpc-web-texty", "AAAA");
    assert.equal(wrongType.status, 415);
    // And the server still answers.
    const ok = await new Promise<string>((resolve, reject) => {
      new grpcWeb.GrpcWebClientBase({ format: "text" }).rpcCall(
        `${server.url}/greeter.v1.Greeter/Greet`,
        greetRequest("Ada"),
        {},
        greetMethod,
        (error, response) => (error ? reject(error) : resolve(response.greeting)),
      );
    });
    assert.equal(ok, "Hello, Ada!");
  });
});

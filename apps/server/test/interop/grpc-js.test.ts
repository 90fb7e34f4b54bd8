import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ServingStatus } from "@greeter/grpc-health";
import * as grpc from "@grpc/grpc-js";
import { startTestServer, type TestServer } from "../testing.js";
import { collect, GreeterStub, HealthStub, type Stub, unary } from "./grpc-js-client.js";

let server: TestServer;
let greeter: Stub;
let health: Stub;
before(async () => {
  server = await startTestServer();
  const address = `127.0.0.1:${server.port}`;
  greeter = new GreeterStub(address, grpc.credentials.createInsecure());
  health = new HealthStub(address, grpc.credentials.createInsecure());
});
after(async () => {
  greeter.close();
  health.close();
  await server.close();
});

describe("@grpc/grpc-js client", () => {
  it("calls Greet", async () => {
    const res = await unary<{ greeting: string }>(greeter, "greet", { name: "Ada" });
    assert.equal(res.greeting, "Hello, Ada!");
  });

  it("gets INVALID_ARGUMENT and the reason for an empty name", async () => {
    await assert.rejects(unary(greeter, "greet", { name: "" }), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(err.details, "name: must not be empty [name.not_blank]");
      return true;
    });
  });

  it("gets UNIMPLEMENTED for a method the server does not have", async () => {
    const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    try {
      await assert.rejects(
        new Promise((resolve, reject) =>
          client.makeUnaryRequest(
            "/greeter.v1.Greeter/Shout",
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.alloc(0),
            (err, res) => (err ? reject(err) : resolve(res)),
          ),
        ),
        (err: grpc.ServiceError) => err.code === grpc.status.UNIMPLEMENTED,
      );
    } finally {
      client.close();
    }
  });

  it("reads a GreetStream", async () => {
    const call = greeter.greetStream?.({ name: "Grace", count: 3, interval_ms: 10 }) as grpc.ClientReadableStream<{
      greeting: string;
    }>;
    const got = await collect(call);
    assert.deepEqual(
      got.map((r) => r.greeting),
      ["Hello, Grace!", "Hola, Grace!", "Bonjour, Grace!"],
    );
  });

  it("sees GreetStream end with DEADLINE_EXCEEDED", async () => {
    const call = greeter.greetStream?.(
      { name: "Grace", count: 50, interval_ms: 100 },
      { deadline: Date.now() + 300 },
    ) as grpc.ClientReadableStream<unknown>;
    await assert.rejects(collect(call), (err: grpc.ServiceError) => err.code === grpc.status.DEADLINE_EXCEEDED);
  });

  it("streams names to GreetEveryone", async () => {
    const res = await new Promise<{ greeting: string; count: number }>((resolve, reject) => {
      const call = greeter.greetEveryone?.((err: grpc.ServiceError | null, r: { greeting: string; count: number }) =>
        err ? reject(err) : resolve(r),
      ) as grpc.ClientWritableStream<{ name: string }>;
      for (const name of ["Ada", "Grace", "Linus"]) call.write({ name });
      call.end();
    });
    assert.equal(res.greeting, "Hello, Ada, Grace and Linus!");
    assert.equal(res.count, 3);
  });

  it("chats over a bidirectional stream", async () => {
    const call = greeter.chat?.() as grpc.ClientDuplexStream<{ name: string; message: string }, { reply: string }>;
    const replies = collect(call);
    call.write({ name: "Linus", message: "hello" });
    call.write({ name: "Linus", message: "bye" });
    call.end();
    assert.deepEqual(
      (await replies).map((r) => r.reply),
      ['Hello, Linus! You said: "hello".', 'Hello, Linus! You said: "bye".'],
    );
  });

  it("checks health, overall and per service", async () => {
    assert.equal((await unary<{ status: string }>(health, "check", { service: "" })).status, "SERVING");
    assert.equal(
      (await unary<{ status: string }>(health, "check", { service: "greeter.v1.Greeter" })).status,
      "SERVING",
    );
    await assert.rejects(
      unary(health, "check", { service: "no.such.Service" }),
      (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND,
    );
  });

  it("watches health and sees a change at once", async () => {
    const call = health.watch?.({ service: "greeter.v1.Greeter" }) as grpc.ClientReadableStream<{ status: string }>;
    const statuses: string[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on("data", (res: { status: string }) => {
        statuses.push(res.status);
        if (statuses.length === 1) server.health.setStatus("greeter.v1.Greeter", ServingStatus.NOT_SERVING);
        if (statuses.length === 2) resolve();
      });
      call.on("error", reject);
    });
    call.cancel();
    server.health.setStatus("greeter.v1.Greeter", ServingStatus.SERVING);
    assert.deepEqual(statuses, ["SERVING", "NOT_SERVING"]);
  });
});

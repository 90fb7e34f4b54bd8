import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Greeter, type GreetingRequest, GreetingRequestSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { testLimits } from "../../test/call-limits.js";
import { createConnectHandler } from "../protocol-connect/handler.js";
import type { FastRequest, FastResponse } from "../wire/exchange.js";
import { createCallContext, InflightCalls } from "./context.js";
import { createCallEngine } from "./engine.js";
import { runUnaryCall } from "./run-unary-call.js";
import { createUnaryInvoker } from "./unary-chain.js";

// A synchronous implementation without interceptors is answered in the
// tick its request was read in, without a promise. Calls over a socket, on
// a fast path alone on a bare node:http server (anything it does not take
// gets a 404), and runUnaryCall itself, to see the tick.
let server: http.Server;
let url: string;
let called = 0;
const shutdown = new AbortController();

function greet(req: GreetingRequest) {
  called++;
  if (req.name === "bug") throw new Error("secret");
  if (req.name === "refused") throw new ConnectError("not this name", Code.InvalidArgument);
  return { greeting: `Hello, ${req.name}!` };
}

before(async () => {
  const fastPath = createConnectHandler(
    createCallEngine(
      { unary: [{ method: Greeter.method.greet, impl: greet as never }], serverStreaming: [] },
      testLimits({ shutdownSignal: shutdown.signal }),
    ),
  );
  server = http.createServer((req, res) => {
    if (!fastPath.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = () => createClient(Greeter, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));

describe("a synchronous implementation without interceptors, over a socket", () => {
  it("answers the call, and the next ones on the same connection", async () => {
    const greeter = client();
    for (const name of ["Ada", "Grace", "Linus"]) {
      assert.equal((await greeter.greet({ name })).greeting, `Hello, ${name}!`);
    }
  });

  // A throw takes the promise's way: these check the answer, not the tick.
  it("answers what it throws: a ConnectError as it is, anything else as INTERNAL without its message", async () => {
    await assert.rejects(client().greet({ name: "refused" }), (e: unknown) => {
      const error = ConnectError.from(e);
      return error.code === Code.InvalidArgument && error.rawMessage === "not this name";
    });
    await assert.rejects(client().greet({ name: "bug" }), (e: unknown) => {
      const error = ConnectError.from(e);
      return error.code === Code.Internal && error.rawMessage === "internal error";
    });
  });

  it("after the shutdown, answers with the shutdown's reason and does not run the implementation", async () => {
    shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
    const before = called;
    await assert.rejects(client().greet({ name: "Ada" }), (e: unknown) => {
      const error = ConnectError.from(e);
      return error.code === Code.Unavailable && error.rawMessage === "the server is shutting down";
    });
    assert.equal(called, before, "a call begun after the shutdown ran its implementation");
  });
});

const activeTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("runUnaryCall, given an answer at hand", () => {
  it("answers before it returns, leaving no close listener, no timer and no call in flight", () => {
    const shutdown = new AbortController();
    const inflight = new InflightCalls(shutdown.signal);
    const res = new EventEmitter();
    const context = createCallContext({
      method: Greeter.method.greet,
      protocolName: "connect",
      requestMethod: "POST",
      url: "/greeter.v1.Greeter/Greet",
      timeoutMs: 60_000,
      requestHeaders: {},
      inflight,
      deferStart: true,
    });
    const body = new Uint8Array([10, 3, 65, 100, 97]);
    const before = called;
    const timers = activeTimers();
    const answered: Uint8Array[] = [];
    runUnaryCall(
      {
        req: { url: "/greeter.v1.Greeter/Greet", headers: {} } as FastRequest,
        res: res as unknown as FastResponse,
        // The invoker the engine makes for a synchronous implementation without interceptors.
        route: {
          method: Greeter.method.greet,
          invoke: createUnaryInvoker({ method: Greeter.method.greet, impl: greet as never }, [], undefined),
        },
        protocolName: "connect",
        request: create(GreetingRequestSchema, { name: "Ada" }),
        bytesIn: 0,
        encode: () => body,
        timeoutMs: 60_000,
        inflight,
        context,
      },
      (encoded) => answered.push(encoded),
      (error) => assert.fail(`failed with ${error.message}`),
    );
    assert.deepEqual(answered, [body], "not answered before runUnaryCall returned");
    assert.equal(called, before + 1);
    assert.equal(res.listenerCount("close"), 0);
    assert.equal(activeTimers(), timers, "the deadline's timer is still armed");
    // Still in flight, it would take the shutdown's reason.
    shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
    assert.equal(context.abortReason, undefined);
  });
});

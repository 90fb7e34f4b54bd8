import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Greeter, type GreetingRequest } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { testLimits } from "../../test/call-limits.js";
import { createConnectHandler } from "../protocol-connect/handler.js";
import { createCallEngine } from "./engine.js";

// A synchronous implementation without interceptors is answered in the
// tick its request was read in, without a promise: these calls take that
// way, on a fast path alone on a bare node:http server (anything it does
// not take gets a 404).
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

describe("a synchronous implementation, answered in the same tick", () => {
  it("answers the call, and the next ones on the same connection", async () => {
    const greeter = client();
    for (const name of ["Ada", "Grace", "Linus"]) {
      assert.equal((await greeter.greet({ name })).greeting, `Hello, ${name}!`);
    }
  });

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

  it("after the shutdown, answers with the shutdown's reason, not the implementation's answer", async () => {
    shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
    const before = called;
    await assert.rejects(client().greet({ name: "Ada" }), (e: unknown) => {
      const error = ConnectError.from(e);
      return error.code === Code.Unavailable && error.rawMessage === "the server is shutting down";
    });
    // The implementation ran, as it does on the asynchronous way: the call had started.
    assert.equal(called, before + 1);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { loadConfig } from "../src/config.js";
import { startTestServer } from "./testing.js";

/** A Connect Greet over HTTP/1.1 on a connection of its own: "ok", or what went wrong. */
async function greetOnNewConnection(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/greeter.v1.Greeter/Greet`, {
      method: "POST",
      headers: { "content-type": "application/json", connection: "close" },
      body: JSON.stringify({ name: "Ada" }),
    });
    const body = (await res.json()) as { greeting?: string };
    return body.greeting === "Hello, Ada!" ? "ok" : `HTTP ${res.status}`;
  } catch (e) {
    return ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
  }
}

describe("DRAIN_DELAY_MS", () => {
  it("reports NOT_SERVING at once but takes new connections and calls until the delay is over, then drains", async () => {
    const server = await startTestServer({ drainDelayMs: 1_000, shutdownGraceMs: 1_000 });
    // An HTTP/2 connection opened before the signal, as a balancer's is.
    const greeter = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    assert.equal((await greeter.greet({ name: "Ada" })).greeting, "Hello, Ada!");

    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    const healthz = await fetch(`${server.url}/healthz`, { headers: { connection: "close" } });
    assert.equal(healthz.status, 503, "a balancer's check fails at once");

    // Half the delay: still a server to every client, old connection or new.
    await sleep(500);
    assert.equal(closed, false);
    assert.equal(await greetOnNewConnection(server.url), "ok", "a new connection is still accepted");
    assert.equal((await greeter.greet({ name: "Ada" })).greeting, "Hello, Ada!");

    await closing;
    assert.match(await greetOnNewConnection(server.url), /ECONNREFUSED/, "after the drain the port is closed");
  });

  it("is 0 by default (a server clients reach directly drains at once) and read from DRAIN_DELAY_MS or --drain-delay-ms", () => {
    assert.equal(loadConfig({}, []).drainDelayMs, 0);
    assert.equal(loadConfig({ DRAIN_DELAY_MS: "2000" }, []).drainDelayMs, 2_000);
    assert.equal(loadConfig({}, ["--drain-delay-ms", "5000"]).drainDelayMs, 5_000);
    assert.throws(() => loadConfig({ DRAIN_DELAY_MS: "soon" }, []), /DRAIN_DELAY_MS="soon": must be a whole number/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Health } from "@greeter/proto/health/v1/health_pb.js";
import { createHealthService, ServingStatus } from "./health-service.js";

function setup() {
  const health = createHealthService({ initial: { "demo.v1.Demo": ServingStatus.SERVING } });
  const client = createClient(
    Health,
    createRouterTransport((router) => router.service(Health, health.impl)),
  );
  return { health, client };
}

describe("health service", () => {
  it("Check reports the overall and per-service status, NOT_FOUND for unknown services", async () => {
    const { health, client } = setup();
    assert.equal((await client.check({ service: "" })).status, ServingStatus.SERVING);
    health.setStatus("demo.v1.Demo", ServingStatus.NOT_SERVING);
    assert.equal((await client.check({ service: "demo.v1.Demo" })).status, ServingStatus.NOT_SERVING);
    await assert.rejects(client.check({ service: "nope.v1.Nope" }), (e) => ConnectError.from(e).code === Code.NotFound);
  });

  it("Watch sends the current status, then each change, and SERVICE_UNKNOWN until a service is known", async () => {
    const { health, client } = setup();
    const abort = new AbortController();
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const res of client.watch({ service: "late.v1.Late" }, { signal: abort.signal })) {
        seen.push(res.status);
        if (seen.length === 1) health.setStatus("late.v1.Late", ServingStatus.SERVING);
        if (seen.length === 2) {
          health.setStatus("late.v1.Late", ServingStatus.SERVING); // no change: not sent
          health.setStatus("late.v1.Late", ServingStatus.NOT_SERVING);
        }
        if (seen.length === 3) abort.abort();
      }
    })();
    await assert.rejects(watching, (e) => ConnectError.from(e).code === Code.Canceled);
    assert.deepEqual(seen, [ServingStatus.SERVICE_UNKNOWN, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("shutdown() marks everything NOT_SERVING for good", async () => {
    const { health, client } = setup();
    health.shutdown();
    health.setStatus("demo.v1.Demo", ServingStatus.SERVING);
    const list = await client.list({});
    assert.deepEqual(Object.fromEntries(Object.entries(list.statuses).map(([name, r]) => [name, r.status])), {
      "": ServingStatus.NOT_SERVING,
      "demo.v1.Demo": ServingStatus.NOT_SERVING,
    });
  });
});

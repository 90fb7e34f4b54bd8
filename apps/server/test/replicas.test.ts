import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { GreeterStub, unary } from "./interop/grpc-js-client.js";
import { startServerProcess } from "./testing-process.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many RPC log lines a replica's output holds. */
const rpcCount = (output: string) => output.split("\n").filter((line) => line.includes('"msg":"rpc"')).length;

describe("two replicas behind client-side balancing (grpc-js round_robin)", () => {
  it("loses no call when one replica gets SIGTERM under steady load", async () => {
    const [first, second] = await Promise.all([
      startServerProcess({ SHUTDOWN_GRACE_MS: "3000" }),
      startServerProcess({ SHUTDOWN_GRACE_MS: "3000" }),
    ]);
    const port = (url: string) => new URL(url).port;
    // What a headless Kubernetes Service gives through `dns:///`: every
    // replica's address, and the client spreads calls over them.
    const client = new GreeterStub(
      `ipv4:127.0.0.1:${port(first.url)},127.0.0.1:${port(second.url)}`,
      grpc.credentials.createInsecure(),
      { "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
    );
    try {
      let ok = 0;
      const failures: string[] = [];
      let stop = false;
      const worker = async () => {
        for (let i = 0; i < 5_000 && !stop; i++) {
          try {
            const res = await unary<{ greeting: string }>(client, "greet", { name: "Ada" });
            if (res.greeting === "Hello, Ada!") ok++;
            else failures.push(`wrong answer ${res.greeting}`);
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      };
      const load = Promise.all([worker(), worker(), worker(), worker()]);
      await sleep(1_000);
      const servedBefore = rpcCount(first.output());
      first.child.kill("SIGTERM");
      const [exitCode] = (await once(first.child, "exit")) as [number | null];
      await sleep(500);
      stop = true;
      await load;

      assert.equal(exitCode, 0, "the replica drained and exited cleanly");
      assert.ok(servedBefore > 0 && rpcCount(second.output()) > 0, "both replicas served calls");
      assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} calls failed`);
      assert.ok(ok > 100, `only ${ok} calls went through`);
    } finally {
      client.close();
      second.child.kill("SIGTERM");
    }
  });
});

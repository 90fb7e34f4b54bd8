import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startServerProcess } from "../testing-process.js";
import { heldMessages, probeGreet, rssOf, stalledStreams, unreadTextStreams, watch } from "./attacks.js";

// A client that makes the production server hold memory, tried against a
// real server process from outside: the process must stay up, its RSS (read
// from /proc) within the budget, and another client must get answers.

const MiB = 1024 * 1024;
/** The production heap cap of `pnpm start`. */
const PRODUCTION = { NODE_OPTIONS: "--max-old-space-size=512" };

/** Greets until one succeeds (shedding ends once memory is back), at most `ms`. */
async function servedAgain(url: string, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) {
    if ((await probeGreet(url, 2_000)) === "0") return true;
  }
  return false;
}

/** The sum of a metric's lines whose labels contain `labels`. */
async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

describe("attacks on memory, against the server process", () => {
  it("400 GreetStreams left unread on connect-node's path: the server stays up and under the pod's memory limit", async () => {
    // The Kubernetes Deployment's settings: 200 MiB of heap and Buffers in a 512 MiB pod.
    const { child, url } = await startServerProcess({ ...PRODUCTION, MEMORY_LIMIT_BYTES: String(200 * MiB) });
    const pid = child.pid ?? 0;
    const attack = stalledStreams(url, 4, 100, true);
    try {
      const { peakRss, answers } = await watch(url, pid, 6_000, 300, 5_000);
      assert.equal(child.exitCode, null, "the server is still running");
      // Every probe is answered: served, or refused with UNAVAILABLE while memory is short.
      for (const answer of answers) assert.ok(answer === "0" || answer === "14", `probe answers: ${answers.join(",")}`);
      // What Node's HTTP/2 holds per queued write lies outside the heap and
      // its Buffers: RSS passes the guard's limit, and must stay in the pod's.
      assert.ok(peakRss < 512 * MiB, `peak RSS ${Math.round(peakRss / MiB)} MiB`);
    } finally {
      attack.stop();
    }
    assert.ok(await servedAgain(url, 15_000), "served again once the attack is over");
    assert.equal(child.exitCode, null);
    child.kill("SIGKILL");
  });

  for (const gzip of [false, true]) {
    it(`90 unfinished 4 MiB messages on three connections (${gzip ? "connect-node's path" : "the fast path"}): the server holds at most its budget`, async () => {
      const { child, url } = await startServerProcess(PRODUCTION);
      const pid = child.pid ?? 0;
      await probeGreet(url, 2_000);
      const baseline = rssOf(pid);
      const attack = heldMessages(url, 3, 30, 4 * MiB - 100, gzip);
      try {
        const { peakRss, answers } = await watch(url, pid, 4_000, 300, 5_000);
        assert.equal(child.exitCode, null, "the server is still running");
        for (const answer of answers) assert.equal(answer, "0", `probe answers: ${answers.join(",")}`);
        // 360 MiB sent; the default budgets let the process hold 64 MiB of it
        // (16 MiB per connection): the rest is refused, not kept.
        const grown = peakRss - baseline;
        assert.ok(grown < 160 * MiB, `RSS grew by ${Math.round(grown / MiB)} MiB`);
        assert.ok(
          (await metric(url, "greeter_request_budget_refused_total", "budget=")) > 0,
          "the budget refused calls",
        );
      } finally {
        attack.stop();
        child.kill("SIGKILL");
      }
    });
  }

  for (const gzip of [false, true]) {
    it(`90 unfinished 4 MiB messages without a token, AUTH_REQUIRED=true (${gzip ? "connect-node's path" : "the fast path"}): answered on their headers, none of it held`, async () => {
      // Auth is the request gate: a stranger's message is never read, so
      // it never reaches the request budget, and each call is answered
      // though its message never finishes. 256 KiB of each is sent, which
      // keeps a connection under Node's own session-memory limit.
      const secret = "an-attack-test-secret-long-enough-for-hs256";
      const { child, url } = await startServerProcess({
        ...PRODUCTION,
        AUTH_REQUIRED: "true",
        AUTH_JWT_SECRET: secret,
      });
      const pid = child.pid ?? 0;
      await probeGreet(url, 2_000);
      const baseline = rssOf(pid);
      const attack = heldMessages(url, 3, 30, 4 * MiB - 100, gzip, 256 * 1024);
      try {
        const { peakRss } = await watch(url, pid, 4_000, 300, 5_000);
        assert.equal(child.exitCode, null, "the server is still running");
        assert.equal(attack.refused, 90, "every call was answered, though its message never finished");
        const grown = peakRss - baseline;
        assert.ok(grown < 64 * MiB, `RSS grew by ${Math.round(grown / MiB)} MiB`);
        assert.equal(
          await metric(url, "greeter_request_budget_refused_total", "budget="),
          0,
          "nothing reached the budget",
        );
        assert.ok(
          (await metric(url, "greeter_rpc_refused_total", 'code="unauthenticated"')) >= 90,
          "each call counted as refused",
        );
      } finally {
        attack.stop();
        child.kill("SIGKILL");
      }
    });
  }

  it("20 gRPC-Web text streams left unread: other calls are served meanwhile", async () => {
    const { child, url } = await startServerProcess(PRODUCTION);
    const attack = unreadTextStreams(url, 20);
    try {
      // Writing without waiting for the reader, the server used to stall
      // its event loop for seconds. (On loopback the kernel's socket buffers
      // take all 200,000 greetings, so how many were produced proves nothing.)
      const { answers } = await watch(url, child.pid ?? 0, 3_000, 100, 1_000);
      for (const answer of answers) assert.equal(answer, "0", `probe answers: ${answers.join(",")}`);
    } finally {
      attack.stop();
      child.kill("SIGKILL");
    }
  });
});

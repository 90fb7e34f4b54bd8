import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startHaproxy } from "@greeter/server/balancer";
import { freePort, startTestServer, type TestServer } from "@greeter/server/testing";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { launchChromium } from "./chromium.js";
import { fiveGreetings, startStream } from "./stream-panel.js";

const webRoot = fileURLToPath(new URL("..", import.meta.url));

/** Greet calls a replica answered OK, from its /metrics. */
async function greetsServed(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const match = /^grpc_server_handled_total\{[^}]*grpc_method="Greet"[^}]*grpc_code="OK"\} (\d+)$/m.exec(text);
  return Number(match?.[1] ?? 0);
}

async function greet(page: Page, name: string): Promise<string> {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Greet", exact: true }).click();
  const status = page.getByRole("status");
  await status.filter({ hasText: new RegExp(`${name}|rror|ailed|nreach`) }).waitFor({ timeout: 10_000 });
  return (await status.textContent()) ?? "";
}

// The production build, served by each replica, opened through HAProxy's
// one front port: the page and its gRPC-Web calls go through the balancer.
describe("the web page through HAProxy over 3 replicas (Chromium, gRPC-Web)", () => {
  let outDir: string;
  let replicas: TestServer[] = [];
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | undefined;
  let browser: Browser;
  let page: Page;
  let front = "";

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), "greeter-web-balancer-"));
    await build({ root: webRoot, logLevel: "silent", build: { outDir, emptyOutDir: true } });
    replicas = await Promise.all([1, 2, 3].map(() => startTestServer({ webRoot: outDir, corsOrigins: [] })));
    const frontPort = await freePort();
    haproxy = await startHaproxy(
      { frontPort, replicas: replicas.map((r) => `127.0.0.1:${r.port}`), checkIntervalMs: 200 },
      { output: "ignore" },
    );
    front = `http://127.0.0.1:${frontPort}`;
    for (
      let i = 0;
      i < 100 &&
      !(await fetch(`${front}/healthz`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchChromium();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    haproxy?.kill("SIGTERM");
    if (haproxy && haproxy.exitCode === null) await once(haproxy, "exit");
    await Promise.all(replicas.map((r) => r.close()));
    await rm(outDir, { recursive: true, force: true });
  });

  it("greets, and the calls of one page are spread over every replica", async () => {
    await page.goto(`${front}/`);
    const before = await Promise.all(replicas.map(greetsServed));
    const names = ["Ada", "Grace", "Linus", "Barbara", "Edsger", "Margaret"];
    for (const name of names) assert.equal(await greet(page, name), `Hello, ${name}!`);
    const served = (await Promise.all(replicas.map(greetsServed))).map((n, i) => n - (before[i] ?? 0));
    assert.equal(
      served.reduce((a, b) => a + b, 0),
      names.length,
    );
    for (const n of served) assert.ok(n >= 1, `Greet calls per replica: ${served.join(", ")}`);
  });

  it("streams greetings live through the balancer", async () => {
    const items = await startStream(page, "Grace");
    await items.nth(4).waitFor({ timeout: 15_000 });
    assert.deepEqual(await items.allTextContents(), fiveGreetings("Grace"));
  });

  it("keeps greeting when a replica leaves", async () => {
    const leaving = replicas.pop();
    await leaving?.close();
    // Two failed checks 200 ms apart take it out; the page never notices.
    await new Promise((r) => setTimeout(r, 1_000));
    for (const name of ["Ada", "Grace", "Linus", "Barbara"]) assert.equal(await greet(page, name), `Hello, ${name}!`);
  });
});

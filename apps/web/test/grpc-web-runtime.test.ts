import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer } from "@greeter/server/testing";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { launchChromium } from "./chromium.js";
import type { StreamResult } from "./grpc-web-page/main.js";
import { fiveGreetings } from "./stream-panel.js";

const pageRoot = fileURLToPath(new URL("./grpc-web-page/", import.meta.url));

// The page (grpc-web-page/) bundles Google's grpc-web runtime; the server
// serves it, so the calls are same-origin, as behind one domain.
describe("Google's grpc-web runtime in Chromium", () => {
  let browser: Browser;
  let server: TestServer;
  let outDir: string;
  let page: Page;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), "greeter-grpc-web-page-"));
    await build({
      root: pageRoot,
      configFile: false,
      logLevel: "silent",
      resolve: { conditions: ["source"] },
      build: { outDir, emptyOutDir: true },
    });
    server = await startTestServer({ webRoot: outDir, corsOrigins: [] });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => "grpcWeb" in window, undefined, { timeout: 10_000 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await rm(outDir, { recursive: true, force: true });
  });

  for (const format of ["text", "binary"] as const) {
    describe(`${format === "text" ? "grpcwebtext" : "grpcweb"} mode`, () => {
      it("Greet, and an invalid name's status and message", async () => {
        const ok = await page.evaluate((f) => window.grpcWeb.greet(f, "Ada"), format);
        assert.deepEqual(ok, { greeting: "Hello, Ada!", code: 0, message: "" });
        const bad = await page.evaluate((f) => window.grpcWeb.greet(f, " "), format);
        assert.deepEqual(bad, { code: 3, message: "name: must not be empty [name.not_blank]" });
      });

      it(`GreetStream: 5 greetings${format === "text" ? ", received one by one" : ""}`, async () => {
        const result: StreamResult = await page.evaluate((f) => window.grpcWeb.stream(f, 5, 200), format);
        assert.equal(result.code, 0, result.message);
        assert.deepEqual(result.greetings, fiveGreetings("Ada"));
        if (format === "text") {
          // Sent 200 ms apart: buffered to the end, they would arrive together.
          const spread = (result.arrivals.at(-1) ?? 0) - (result.arrivals[0] ?? 0);
          assert.ok(spread >= 500, `the greetings reached the page within ${spread.toFixed(0)} ms`);
        }
      });

      it("a deadline ends a slow stream with DEADLINE_EXCEEDED", async () => {
        const result: StreamResult = await page.evaluate((f) => window.grpcWeb.stream(f, 5, 1_000, 400), format);
        assert.equal(result.code, 4, result.message);
        assert.ok(result.greetings.length < 5);
      });
    });
  }
});

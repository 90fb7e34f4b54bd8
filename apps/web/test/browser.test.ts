import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { mintToken } from "@greeter/interceptors/server";
import { startTestServer, type TestServer } from "@greeter/server/testing";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import type { Browser, Page, Request } from "playwright-core";
import { build } from "vite";
import { launchChromium } from "./chromium.js";
import { type DevStack, startDevStack } from "./dev-stack.js";
import { fiveGreetings, startStream } from "./stream-panel.js";

// The production-build server requires tokens, signed with this.
const SECRET = "browser-test-secret-0123456789abcdef";
const webRoot = fileURLToPath(new URL("..", import.meta.url));

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Every request the page sends to a Greeter procedure. */
function recordRpcs(page: Page): Request[] {
  const rpcs: Request[] = [];
  page.on("request", (request) => {
    if (request.url().includes("/greeter.v1.Greeter/")) rpcs.push(request);
  });
  return rpcs;
}

async function greet(page: Page, name: string): Promise<string> {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Greet", exact: true }).click();
  const status = page.getByRole("status");
  await status.filter({ hasNotText: /^(Greeting…)?$/ }).waitFor({ timeout: 10_000 });
  return (await status.textContent()) ?? "";
}

/** Submits a name the server rejects; the violation the page shows under the field. */
async function rejectedName(page: Page, name: string): Promise<string> {
  await page.getByLabel("Name", { exact: true }).fill(name);
  // Wait for this call's answer, not a violation still shown from the last one.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/greeter.v1.Greeter/Greet"), { timeout: 10_000 }),
    page.getByRole("button", { name: "Greet", exact: true }).click(),
  ]);
  const error = page.locator("#name-error");
  await error.filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
  // The field says what is wrong: the status line says nothing more.
  assert.equal((await page.getByRole("status").textContent()) ?? "", "");
  assert.equal(await page.getByLabel("Name", { exact: true }).getAttribute("aria-describedby"), "name-error");
  return (await error.textContent()) ?? "";
}

describe("the web app served by the Greeter server (production build, one port)", () => {
  let server: TestServer;
  let outDir: string;
  let page: Page;
  const spans = new InMemorySpanExporter();

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), "greeter-web-"));
    await build({ root: webRoot, logLevel: "silent", build: { outDir, emptyOutDir: true } });
    server = await startTestServer(
      { webRoot: outDir, corsOrigins: [], authJwtSecret: SECRET, authRequired: true },
      { spanExporter: spans },
    );
    page = await browser.newPage();
  });
  after(async () => {
    await page?.close();
    await server?.close();
    await rm(outDir, { recursive: true, force: true });
  });

  it("asks for an access token when the server requires one, and sends the one pasted in", async () => {
    await page.goto(`${server.url}/`);
    assert.equal(await greet(page, "Ada"), "This server needs an access token: paste one under Access token.");
    await page.getByText("Access token", { exact: true }).click();
    await page.getByLabel(/^Bearer token/).fill("not-a-token");
    assert.equal(await greet(page, "Ada"), "The server refused your access token. Check it under Access token.");
    const token = await mintToken({
      key: new TextEncoder().encode(SECRET),
      subject: "web",
      audience: "greeter",
      scopes: ["greeter.greet"],
    });
    const expired = await mintToken({
      key: new TextEncoder().encode(SECRET),
      subject: "web",
      audience: "greeter",
      scopes: ["greeter.greet"],
      ttlSeconds: -60,
    });
    await page.getByLabel(/^Bearer token/).fill(expired);
    assert.equal(await greet(page, "Ada"), "Your access token has expired: paste a new one under Access token.");
    await page.getByLabel(/^Bearer token/).fill(token);
    const rpcs = recordRpcs(page);
    assert.equal(await greet(page, "Ada"), "Hello, Ada!");
    assert.equal(await rpcs[0]?.headerValue("authorization"), `Bearer ${token}`);
  });

  it("greets the name typed into the form, over binary gRPC-Web", async () => {
    const rpcs = recordRpcs(page);
    await page.goto(`${server.url}/`);
    assert.equal(await greet(page, "Ada"), "Hello, Ada!");
    // The client metadata interceptor says who is calling.
    assert.equal(await rpcs[0]?.headerValue("x-client-name"), "greeter-web");
    assert.equal(await rpcs[0]?.headerValue("x-client-device"), "browser");

    assert.equal(rpcs.length, 1);
    const [rpc] = rpcs;
    assert.ok(rpc);
    assert.equal(rpc.method(), "POST");
    assert.equal(new URL(rpc.url()).pathname, "/greeter.v1.Greeter/Greet");
    assert.equal(await rpc.headerValue("content-type"), "application/grpc-web+proto");
    const response = await rpc.response();
    assert.equal(response?.headers()["content-type"], "application/grpc-web+proto");
  });

  it("loads React and its own code first, the client after the first render, OpenTelemetry with the first call, the rule schema with the first violation", async () => {
    const fresh = await browser.newPage();
    try {
      const scripts: string[] = [];
      fresh.on("request", (request) => {
        if (request.resourceType() === "script") scripts.push(new URL(request.url()).pathname);
      });
      const client = fresh.waitForResponse((r) => /\/api-[\w-]+\.js$/.test(new URL(r.url()).pathname));
      await fresh.goto(`${server.url}/`);
      await fresh.getByRole("button", { name: "Greet", exact: true }).waitFor();
      await client;
      assert.equal(scripts.length, 2, `scripts before any call: ${scripts.join(", ")}`);
      assert.match(scripts[0] ?? "", /\/index-[\w-]+\.js$/, "the page's entry first");
      const token = await mintToken({
        key: new TextEncoder().encode(SECRET),
        subject: "web",
        audience: "greeter",
        scopes: ["greeter.greet"],
      });
      await fresh.getByText("Access token", { exact: true }).click();
      await fresh.getByLabel(/^Bearer token/).fill(token);
      assert.equal(await greet(fresh, "Ada"), "Hello, Ada!");
      const afterCall = scripts.slice(1);
      assert.ok(
        afterCall.some((s) => /\/tracing-[\w-]+\.js$/.test(s)),
        `the tracing chunk came with the call: ${afterCall.join(", ")}`,
      );
      assert.ok(!scripts.some((s) => s.includes("validate_pb")), "no rule schema for a call that succeeded");
      assert.equal(await rejectedName(fresh, " "), "Name must not be empty");
      assert.ok(
        scripts.some((s) => /\/validate_pb-[\w-]+\.js$/.test(s)),
        `scripts: ${scripts.join(", ")}`,
      );
    } finally {
      await fresh.close();
    }
  });

  it("shows the form before the client has loaded, says so if it cannot load, and loads it again on the next call", async () => {
    const fresh = await browser.newPage();
    try {
      let refused = 0;
      await fresh.route(/\/assets\/api-[\w-]+\.js$/, async (route) => {
        refused++;
        await route.abort("connectionrefused");
      });
      await fresh.goto(`${server.url}/`);
      await fresh.getByRole("button", { name: "Greet", exact: true }).waitFor();
      assert.equal(
        await greet(fresh, "Ada"),
        "The page could not load all of its code. Check your connection and try again.",
      );
      assert.ok(refused >= 1, "the client was asked for, and refused");
      await fresh.unroute(/\/assets\/api-[\w-]+\.js$/);
      await fresh.getByText("Access token", { exact: true }).click();
      await fresh.getByLabel(/^Bearer token/).fill(
        await mintToken({
          key: new TextEncoder().encode(SECRET),
          subject: "web",
          audience: "greeter",
          scopes: ["greeter.greet"],
        }),
      );
      assert.equal(await greet(fresh, "Ada"), "Hello, Ada!");
    } finally {
      await fresh.close();
    }
  });

  it("starts the trace: a W3C traceparent the server's span is the child of", async () => {
    const rpcs = recordRpcs(page);
    spans.reset();
    await page.goto(`${server.url}/`);
    assert.equal(await greet(page, "Ada"), "Hello, Ada!");
    const traceparent = (await rpcs[0]?.headerValue("traceparent")) ?? "";
    const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparent) ?? [];
    assert.ok(traceId && spanId, `traceparent: "${traceparent}"`);
    const serverSpan = spans.getFinishedSpans().find((s) => s.name === "greeter.v1.Greeter/Greet");
    assert.equal(serverSpan?.spanContext().traceId, traceId);
    assert.equal(serverSpan?.parentSpanContext?.spanId, spanId);
  });

  it("shows the server's field violations next to the field, and clears them once the name is fixed", async () => {
    await page.goto(`${server.url}/`);
    assert.equal(await rejectedName(page, "   "), "Name must not be empty");
    assert.equal(await rejectedName(page, "x".repeat(101)), "Name must be at most 100 characters");
    assert.equal(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "true");
    assert.equal(await greet(page, "Ada"), "Hello, Ada!");
    assert.equal(await page.locator("#name-error").count(), 0);
    assert.equal(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "false");
  });

  it("drops a violation once the name is edited: the form never contradicts the field, nor the stream", async () => {
    await page.goto(`${server.url}/`);
    const field = page.getByLabel("Name", { exact: true });
    assert.equal(await rejectedName(page, ""), "Name must not be empty");
    // Typing is enough: no call has said anything about "Grace" yet.
    await field.fill("Grace");
    assert.equal(await page.locator("#name-error").count(), 0);
    assert.equal(await field.getAttribute("aria-invalid"), "false");
    assert.equal(await field.getAttribute("aria-describedby"), null);
    assert.equal(await greet(page, "Grace"), "Hello, Grace!");
    const items = await startStream(page, "Grace");
    await items.nth(4).waitFor({ timeout: 10_000 });
    assert.deepEqual(await items.allTextContents(), fiveGreetings("Grace"));
    assert.equal(await page.locator("#name-error").count(), 0);
    // A greeting for a name that is no longer in the field goes too.
    await field.fill("Linus");
    assert.equal((await page.getByRole("status").textContent()) ?? "", "");
  });

  it("says a stream's rejected name next to the field, and drops it on the next edit", async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel("Name", { exact: true }).fill("  ");
    await page.getByRole("button", { name: "Stream greetings" }).click();
    const error = page.locator("#name-error");
    await error.filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
    assert.equal(await error.textContent(), "Name must not be empty");
    assert.equal(await page.getByRole("alert").filter({ hasNotText: "Name must not be empty" }).count(), 0);
    await page.getByLabel("Name", { exact: true }).fill("Ada");
    assert.equal(await error.count(), 0);
  });

  it("shows streamed greetings one by one as they arrive", async () => {
    await page.goto(`${server.url}/`);
    const items = await startStream(page, "Grace");
    // The server sends one every 400 ms: catch the list part-filled, then full.
    const seen = new Set<number>();
    for (let i = 0; i < 200 && !seen.has(5); i++) {
      seen.add(await items.count());
      await page.waitForTimeout(25);
    }
    assert.ok(
      [1, 2, 3, 4].some((n) => seen.has(n)),
      `saw only these list lengths: ${[...seen]}`,
    );
    assert.deepEqual(await items.allTextContents(), fiveGreetings("Grace"));
  });
});

describe("the web app in development (Vite dev server, API on another origin)", () => {
  let stack: DevStack;
  let server: TestServer;
  let page: Page;
  let origin: string;
  before(async () => {
    stack = await startDevStack();
    ({ server, origin } = stack);
    page = await browser.newPage();
  });
  after(async () => {
    await page?.close();
    await stack?.close();
  });

  it("calls the API cross-origin, allowed by CORS", async () => {
    const rpcs = recordRpcs(page);
    await page.goto(`${origin}/`, { waitUntil: "networkidle" });
    assert.equal(await greet(page, "Linus"), "Hello, Linus!");
    const rpc = rpcs.find((r) => r.method() === "POST");
    assert.ok(rpc, "the page sent no gRPC-Web request");
    assert.equal(new URL(rpc.url()).origin, new URL(server.url).origin);
    assert.equal((await rpc.response())?.headers()["access-control-allow-origin"], origin);
  });

  it("says so when the server is down", async () => {
    await page.goto(`${origin}/`, { waitUntil: "networkidle" });
    await server.close();
    assert.equal(await greet(page, "Ada"), `Cannot reach the server at ${server.url}. Is it running?`);
  });
});

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer } from "@greeter/server/testing";
import type { Browser, Page, Response } from "playwright-core";
import { build } from "vite";
import { launchChromium } from "./chromium.js";
import { type DevStack, startDevStack } from "./dev-stack.js";

// The page and /docs under their Content-Security-Policy, in Chromium: in
// production (the server's headers), /docs (Swagger UI) and development
// (Vite's dev server, the API on another origin). A policy that blocks
// anything shows as a `securitypolicyviolation` event and a console error.
const webRoot = fileURLToPath(new URL("..", import.meta.url));

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

interface Watched {
  page: Page;
  /** Console errors, failed requests, 4xx/5xx answers and CSP violations, in order. */
  problems: string[];
}

async function watchedPage(): Promise<Watched> {
  const page = await browser.newPage();
  const problems: string[] = [];
  await page.exposeFunction("reportViolation", (text: string) => problems.push(`csp: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { reportViolation: (text: string) => void }).reportViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  return { page, problems };
}

async function greet(page: Page, name: string): Promise<string> {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Greet", exact: true }).click();
  const status = page.getByRole("status");
  await status.filter({ hasNotText: /^(Greeting…)?$/ }).waitFor({ timeout: 10_000 });
  return (await status.textContent()) ?? "";
}

function assertSecurityHeaders(response: Response | null, connectSrc: string): void {
  assert.ok(response, "no response");
  const headers = response.headers();
  const csp = headers["content-security-policy"] ?? "";
  assert.match(csp, /(^|; )default-src 'self'(;|$)/);
  assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/);
  assert.match(csp, /(^|; )object-src 'none'(;|$)/);
  assert.match(csp, new RegExp(`(^|; )connect-src ${connectSrc}(;|$)`));
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["referrer-policy"], "no-referrer");
}

describe("security headers in production (the server serves the page and /docs)", () => {
  let server: TestServer;
  let outDir: string;
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), "greeter-web-csp-"));
    await build({ root: webRoot, logLevel: "silent", build: { outDir, emptyOutDir: true } });
    server = await startTestServer({ webRoot: outDir, corsOrigins: [] });
  });
  after(async () => {
    await server?.close();
    await rm(outDir, { recursive: true, force: true });
  });

  it("the page loads with them, shows its icon and greets, with nothing blocked or missing", async () => {
    const { page, problems } = await watchedPage();
    const response = await page.goto(`${server.url}/`, { waitUntil: "networkidle" });
    assertSecurityHeaders(response, "'self'");
    assert.equal(await greet(page, "Ada"), "Hello, Ada!");
    const icon = await page.evaluate(async () => {
      const href = document.querySelector<HTMLLinkElement>("link[rel=icon]")?.href ?? "";
      return { href, status: (await fetch(href)).status, ico: (await fetch("/favicon.ico")).status };
    });
    assert.deepEqual(icon, { href: `${server.url}/favicon.svg`, status: 200, ico: 200 });
    await page.close();
    assert.deepEqual(problems, []);
  });

  it("/docs loads with them, and its 'try it' call goes through", async () => {
    const { page, problems } = await watchedPage();
    const response = await page.goto(`${server.url}/docs`);
    assertSecurityHeaders(response, "'self'");
    const operation = page.locator(".opblock-post", { hasText: "/greeter.v1.Greeter/Greet" });
    await operation.waitFor({ timeout: 20_000 });
    await operation.locator(".opblock-summary").click();
    await operation.locator("textarea.body-param__text").fill('{"name": "Ada"}');
    await operation.locator("button.execute").click();
    await operation
      .locator(".live-responses-table .response .response-col_status")
      .first()
      .waitFor({ timeout: 10_000 });
    assert.equal(
      (await operation.locator(".live-responses-table .response .response-col_status").first().textContent())?.trim(),
      "200",
    );
    await page.close();
    assert.deepEqual(problems, []);
  });

  it("RPC answers carry none of them (Connect and gRPC-Web over HTTP/1.1)", async () => {
    for (const contentType of ["application/json", "application/grpc-web+proto"]) {
      const body =
        contentType === "application/json" ? '{"name":"Ada"}' : new Uint8Array([0, 0, 0, 0, 5, 10, 3, 65, 100, 97]);
      const res = await fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
        method: "POST",
        headers: { "content-type": contentType },
        body,
      });
      assert.equal(res.status, 200, contentType);
      await res.arrayBuffer();
      for (const name of ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"]) {
        assert.equal(res.headers.get(name), null, `${contentType}: ${name}`);
      }
    }
  });
});

describe("a build that calls another origin (VITE_OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  let outDir: string;
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), "greeter-web-csp-otel-"));
    process.env.VITE_OTEL_EXPORTER_OTLP_ENDPOINT = "http://127.0.0.1:4318/";
    await build({ root: webRoot, logLevel: "silent", build: { outDir, emptyOutDir: true } });
    delete process.env.VITE_OTEL_EXPORTER_OTLP_ENDPOINT;
  });
  after(async () => {
    delete process.env.VITE_OTEL_EXPORTER_OTLP_ENDPOINT;
    await rm(outDir, { recursive: true, force: true });
  });

  it("is served with that origin in connect-src, which the build wrote down", async () => {
    const server = await startTestServer({ webRoot: outDir, corsOrigins: [] });
    try {
      const csp = (await fetch(`${server.url}/`)).headers.get("content-security-policy") ?? "";
      assert.match(csp, /(^|; )connect-src 'self' http:\/\/127\.0\.0\.1:4318(;|$)/);
    } finally {
      await server.close();
    }
  });
});

describe("security headers in development (Vite dev server, API on another origin)", () => {
  let stack: DevStack;
  let server: TestServer;
  let origin: string;
  before(async () => {
    stack = await startDevStack();
    ({ server, origin } = stack);
  });
  after(async () => {
    await stack?.close();
  });

  it("the page, with Vite's inline preamble and HMR socket, runs under them and greets cross-origin", async () => {
    const { page, problems } = await watchedPage();
    const connected = page.waitForEvent("console", {
      predicate: (m) => m.text().includes("[vite] connected"),
      timeout: 20_000,
    });
    const response = await page.goto(`${origin}/`, { waitUntil: "networkidle" });
    assertSecurityHeaders(response, `'self' ${new URL(server.url).origin}`);
    assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self' 'nonce-[\w+/=]+'/);
    await connected;
    assert.equal(await greet(page, "Grace"), "Hello, Grace!");
    await page.close();
    assert.deepEqual(problems, []);
  });
});

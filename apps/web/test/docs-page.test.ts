import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "@greeter/server/testing";
import type { Browser, Locator, Page } from "playwright-core";
import { launchChromium } from "./chromium.js";

/** Opens an operation of the Swagger UI page, "Try it out" already on (see docs-page.ts). */
async function openOperation(page: Page, verb: "get" | "post", path: string): Promise<Locator> {
  const operation = page.locator(`.opblock-${verb}`, { hasText: path });
  await operation.locator(".opblock-summary").click();
  return operation;
}

/** Clicks Execute and reads the status and body the page shows. */
async function execute(operation: Locator): Promise<{ status: string; body: unknown }> {
  await operation.locator("button.execute").click();
  const response = operation.locator(".live-responses-table .response").first();
  const status = ((await response.locator(".response-col_status").textContent()) ?? "").trim();
  const body = JSON.parse(
    (await response.locator(".response-col_description .microlight").first().textContent()) ?? "",
  );
  return { status, body };
}

// The /docs page is Swagger UI served by the Greeter server itself, reading
// /openapi.json: what a curl user sees first, tried in a real browser.
describe("the /docs page in Chromium", () => {
  let browser: Browser;
  let server: TestServer;
  let page: Page;
  const failed: string[] = [];

  before(async () => {
    server = await startTestServer({ corsOrigins: [] });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("requestfailed", (r) => failed.push(r.url()));
    page.on("response", (r) => {
      if (r.status() >= 400 && !r.url().includes("/greeter.v1.")) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${server.url}/docs`);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("lists Greet, and the streaming methods in the service's description", async () => {
    await page.locator(".opblock-post", { hasText: "/greeter.v1.Greeter/Greet" }).waitFor({ timeout: 20_000 });
    const text = (await page.locator("#swagger-ui").textContent()) ?? "";
    assert.match(text, /Greeter API/);
    assert.match(text, /GreetStream.*needs a Connect or gRPC client/);
    assert.deepEqual(failed, [], "every file of the page loads from the server");
  });

  it('"try it" on POST Greet answers Hello, Ada!', async () => {
    const operation = await openOperation(page, "post", "/greeter.v1.Greeter/Greet");
    await operation.locator("textarea.body-param__text").fill('{"name": "Ada"}');
    assert.deepEqual(await execute(operation), { status: "200", body: { greeting: "Hello, Ada!", language: "en" } });
  });

  it('"try it" on GET Greet answers Hello, Ada! from the query', async () => {
    const operation = await openOperation(page, "get", "/greeter.v1.Greeter/Greet");
    await operation.locator("tr[data-param-name='message'] textarea").fill('{"name": "Ada"}');
    assert.deepEqual(await execute(operation), { status: "200", body: { greeting: "Hello, Ada!", language: "en" } });
  });

  it('"try it" on POST Greet with an empty name shows the Connect error', async () => {
    // Opened by the first "try it" above: a second click would fold it.
    const operation = page.locator(".opblock-post", { hasText: "/greeter.v1.Greeter/Greet" });
    await operation.locator("textarea.body-param__text").fill('{"name": ""}');
    const { status, body } = await execute(operation);
    assert.equal(status, "400");
    assert.deepEqual(
      { code: (body as { code: string }).code, message: (body as { message: string }).message },
      { code: "invalid_argument", message: "name: must not be empty [name.not_blank]" },
    );
  });
});

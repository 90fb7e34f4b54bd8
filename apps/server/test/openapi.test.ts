import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mintToken } from "@greeter/interceptors/server";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { compileErrors, validate } from "@readme/openapi-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { startTestServer, type TestServer } from "./testing.js";

// A client built only from what /openapi.json says: the path and method of
// each operation, its parameters and body schema, its response schemas.
type Schema = { [key: string]: unknown };
interface Operation {
  operationId: string;
  parameters?: Schema[];
  requestBody?: { content: { "application/json": { schema: Schema } } };
  responses: Record<string, Schema>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, Schema>>;
  security?: Record<string, string[]>[];
}

/** Follows a local `$ref` ("#/components/…") in the document. */
function deref(doc: Document, node: Schema): Schema {
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  const target = ref
    .slice(2)
    .split("/")
    .reduce<unknown>((n, key) => (n as Record<string, unknown>)[key], doc);
  return deref(doc, target as Schema);
}

/** A value the schema accepts, made from the schema alone: "Ada" for free text. */
function sample(doc: Document, node: Schema): unknown {
  const schema = deref(doc, node);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (Array.isArray(schema.anyOf)) return sample(doc, schema.anyOf[0] as Schema);
  switch (schema.type) {
    case "object":
      return Object.fromEntries(
        Object.entries((schema.properties ?? {}) as Record<string, Schema>).map(([k, v]) => [k, sample(doc, v)]),
      );
    case "array":
      return [sample(doc, schema.items as Schema)];
    case "integer":
    case "number":
      return Math.max(1, Number(schema.minimum ?? 1));
    case "boolean":
      return true;
    case "string":
      return typeof schema.pattern === "string" && schema.pattern.includes("[0-9]") ? "1" : "Ada";
    default:
      return null;
  }
}

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The HTTP request for `operation` with the request message `message`. */
function requestFor(
  base: string,
  path: string,
  verb: string,
  operation: Operation,
  message: unknown,
  doc: Document,
): Call {
  const url = new URL(path, base);
  const headers: Record<string, string> = {};
  for (const p of (operation.parameters ?? []).map((p) => deref(doc, p))) {
    const value =
      p.name === "message" ? JSON.stringify(message) : p.required ? sample(doc, p.schema as Schema) : undefined;
    if (value === undefined) continue;
    if (p.in === "query") url.searchParams.set(String(p.name), String(value));
    if (p.in === "header") headers[String(p.name)] = String(value);
  }
  if (!operation.requestBody) return { method: verb.toUpperCase(), url: url.href, headers };
  assert.ok(operation.requestBody.content["application/json"], `${operation.operationId} takes JSON`);
  return {
    method: verb.toUpperCase(),
    url: url.href,
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(message),
  };
}

function operations(doc: Document): { path: string; verb: string; operation: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([verb, operation]) => ({ path, verb, operation })),
  );
}

function requestSchema(doc: Document, operation: Operation): Schema {
  const body = operation.requestBody?.content["application/json"].schema;
  const param = operation.parameters?.map((p) => deref(doc, p)).find((p) => p.name === "message");
  const schema =
    body ??
    ((param?.content as Record<string, { schema: Schema }> | undefined)?.["application/json"]?.schema as Schema);
  assert.ok(schema, `${operation.operationId} describes its request`);
  return schema;
}

function responseChecker(doc: Document) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: "doc", components: doc.components });
  return (operation: Operation, status: number, body: unknown) => {
    const response = deref(doc, operation.responses[String(status)] ?? {});
    const schema = (response.content as Record<string, { schema: Schema }> | undefined)?.["application/json"]?.schema;
    assert.ok(schema, `${operation.operationId} documents no JSON response for HTTP ${status}`);
    const check = ajv.compile({ $ref: `doc${String(schema.$ref)}` });
    assert.ok(
      check(body),
      `${operation.operationId} ${status}: ${JSON.stringify(body)}: ${ajv.errorsText(check.errors)}`,
    );
  };
}

async function send(call: Call): Promise<{ status: number; body: unknown }> {
  const response = await fetch(call.url, { method: call.method, headers: call.headers, body: call.body });
  return { status: response.status, body: await response.json() };
}

async function fetchDocument(server: TestServer): Promise<Document> {
  const response = await fetch(`${server.url}/openapi.json`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return (await response.json()) as Document;
}

describe("/openapi.json", () => {
  let server: TestServer;
  let doc: Document;
  before(async () => {
    server = await startTestServer();
    doc = await fetchDocument(server);
  });
  after(() => server.close());

  test("passes a real OpenAPI 3.1 validator", async () => {
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
  });

  test("describes every unary Greeter method, and only those", () => {
    const unary = Greeter.methods.filter((m) => m.methodKind === "unary").map((m) => `/${Greeter.typeName}/${m.name}`);
    assert.deepEqual(Object.keys(doc.paths).sort(), unary.sort());
    assert.ok(unary.length > 0);
  });

  test("every operation, called as the document says, answers the documented shape", async () => {
    const check = responseChecker(doc);
    const calls = operations(doc);
    assert.ok(calls.length >= 2, "Greet has POST and GET");
    for (const { path, verb, operation } of calls) {
      const message = sample(doc, requestSchema(doc, operation));
      const { status, body } = await send(requestFor(server.url, path, verb, operation, message, doc));
      assert.equal(status, 200, `${operation.operationId}: ${JSON.stringify(body)}`);
      check(operation, status, body);
      if (operation.operationId.startsWith("greeter.v1.Greeter.Greet")) {
        assert.deepEqual(body, { greeting: "Hello, Ada!", language: "en" });
      }
    }
  });

  test("a bad request gets a documented Connect error", async () => {
    const check = responseChecker(doc);
    for (const { path, verb, operation } of operations(doc)) {
      const { status, body } = await send(requestFor(server.url, path, verb, operation, { name: " " }, doc));
      assert.equal(status, 400, operation.operationId);
      check(operation, status, body);
      assert.equal((body as { code: string }).code, "invalid_argument");
      assert.equal((body as { message: string }).message, "name: must not be empty [name.not_blank]");
    }
  });

  test("the token is optional unless AUTH_REQUIRED", () => {
    assert.deepEqual(doc.security, [{}, { bearer: [] }]);
    assert.equal(doc.components.securitySchemes?.bearer?.scheme, "bearer");
  });
});

describe("/openapi.json with AUTH_REQUIRED=true", () => {
  const secret = "a-secret-of-at-least-32-characters-long!";
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ authRequired: true, authJwtSecret: secret });
  });
  after(() => server.close());

  test("says a bearer token is required, and calls with one succeed, calls without get the documented 401", async () => {
    const doc = await fetchDocument(server);
    assert.deepEqual(doc.security, [{ bearer: [] }]);
    const check = responseChecker(doc);
    const token = await mintToken({
      key: new TextEncoder().encode(secret),
      audience: "greeter",
      subject: "docs-test",
      scopes: ["greeter.greet"],
    });
    for (const { path, verb, operation } of operations(doc)) {
      const call = requestFor(server.url, path, verb, operation, { name: "Ada" }, doc);
      const denied = await send(call);
      assert.equal(denied.status, 401, operation.operationId);
      check(operation, denied.status, denied.body);
      const allowed = await send({ ...call, headers: { ...call.headers, authorization: `Bearer ${token}` } });
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    }
  });
});

describe("OPENAPI and DOCS switches", () => {
  test("DOCS=false keeps /openapi.json; OPENAPI=false and DOCS=false serve neither", async () => {
    for (const [settings, json, docs] of [
      [{ docs: false }, 200, 404],
      [{ docs: false, openapi: false }, 404, 404],
      [{}, 200, 200],
    ] as const) {
      const server = await startTestServer(settings);
      try {
        assert.equal((await fetch(`${server.url}/openapi.json`)).status, json, JSON.stringify(settings));
        const page = await fetch(`${server.url}/docs`);
        assert.equal(page.status, docs, JSON.stringify(settings));
        if (docs === 200) {
          assert.match(await page.text(), /swagger-ui-bundle\.js/);
          const bundle = await fetch(`${server.url}/docs/swagger-ui-bundle.js`);
          assert.equal(bundle.status, 200);
          assert.ok((await bundle.arrayBuffer()).byteLength > 100_000);
        }
      } finally {
        await server.close();
      }
    }
  });
});

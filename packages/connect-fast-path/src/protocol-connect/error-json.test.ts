import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { create, createRegistry } from "@bufbuild/protobuf";
import { AnySchema, anyPack, StringValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import { responseEncodings } from "../wire/response-compression.js";
import { respondError } from "./unary.js";

// A Connect unary error's JSON body is written with the handler's JSON
// options, as connect-node writes it: a detail holding an Any gets its
// `debug` rendering only when the registry knows the Any's type. Found by
// the differential test (apps/conformance/test/differential.test.ts).
const registry = createRegistry(StringValueSchema);
const detail = anyPack(StringValueSchema, create(StringValueSchema, { value: "inside" }));
const error = new ConnectError("refused", Code.FailedPrecondition);
error.details.push({ desc: AnySchema, value: detail });

let server: http.Server;
let url: string;
before(async () => {
  server = http.createServer((_req, res) =>
    respondError(res, {}, error, undefined, undefined, {
      available: responseEncodings(undefined),
      accepted: undefined,
      minBytes: 1024,
      jsonOptions: { registry },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((resolve) => server.close(resolve)));

describe("a Connect unary error's JSON", () => {
  it("is written with the JSON options: a detail's Any rendered in `debug`, as connect-node renders it", async () => {
    const body = await (await fetch(url)).json();
    assert.deepEqual(body, errorToJson(error, { registry }));
    assert.deepEqual((body as { details: { debug?: unknown }[] }).details[0]?.debug, {
      "@type": "type.googleapis.com/google.protobuf.StringValue",
      value: "inside",
    });
  });
});

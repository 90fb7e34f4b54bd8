import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { clampLongTimeouts, MAX_TIMEOUT_MS, parseRequestTimeout } from "./timeouts.js";

describe("parseRequestTimeout", () => {
  it("clamps a legal deadline longer than setTimeout can wait", () => {
    for (const value of ["720H", "99999999H", "596524H", "2147484S"]) {
      assert.deepEqual(parseRequestTimeout("grpc-timeout", value), { timeoutMs: MAX_TIMEOUT_MS }, value);
    }
    for (const value of ["9999999999", "2147483648"]) {
      assert.deepEqual(parseRequestTimeout("connect-timeout-ms", value), { timeoutMs: MAX_TIMEOUT_MS }, value);
    }
  });

  it("keeps shorter ones as they are, and refuses malformed ones as connect-node does", () => {
    assert.deepEqual(parseRequestTimeout("grpc-timeout", "5S"), { timeoutMs: 5000 });
    assert.deepEqual(parseRequestTimeout("connect-timeout-ms", "2147483647"), { timeoutMs: MAX_TIMEOUT_MS });
    assert.deepEqual(parseRequestTimeout("grpc-timeout", undefined), {});
    assert.equal(parseRequestTimeout("grpc-timeout", "123456789H").error?.code, Code.InvalidArgument);
    assert.equal(parseRequestTimeout("connect-timeout-ms", "12345678901").error?.code, Code.InvalidArgument);
  });
});

describe("clampLongTimeouts", () => {
  it("rewrites a long deadline to the longest the header can say within setTimeout's limit", () => {
    const headers: IncomingHttpHeaders = { "grpc-timeout": "720H", "connect-timeout-ms": "9999999999" };
    clampLongTimeouts(headers);
    assert.deepEqual(headers, { "grpc-timeout": "2147483S", "connect-timeout-ms": String(MAX_TIMEOUT_MS) });
  });

  it("leaves short and malformed ones to connect-node", () => {
    const headers: IncomingHttpHeaders = { "grpc-timeout": "soon", "connect-timeout-ms": "1000" };
    clampLongTimeouts(headers);
    assert.deepEqual(headers, { "grpc-timeout": "soon", "connect-timeout-ms": "1000" });
  });
});

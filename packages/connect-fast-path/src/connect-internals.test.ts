import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
  getJsonOptions,
  mergeNonProtocolHeaders,
  parseConnectTimeout,
  parseGrpcTimeout,
  setTrailerStatus,
  trailerFlag,
  trailerSerialize,
} from "./connect-internals.js";

// Each behaviour of connect-es's private exports that the fast path relies
// on, pinned: an upgrade of @connectrpc/connect that changes one fails here
// before it changes an answer.

/** An error whose metadata mixes protocol headers with the application's own. */
const failure = () =>
  new ConnectError("bad: name é", Code.InvalidArgument, {
    "content-type": "application/proto",
    "content-encoding": "gzip",
    "grpc-status": "0",
    "grpc-message": "fine",
    "x-app": "kept",
  });

/** An error as a client receives it from another server: only its code, message and details may be relayed. */
const relayed = () => {
  const error = new ConnectError("upstream failed", Code.Unavailable, { "x-upstream": "secret" });
  Object.defineProperty(error, "isWireError", { value: true });
  return error;
};

describe("connect-es internals the fast path relies on", () => {
  it("mergeNonProtocolHeaders copies an error's own metadata and drops the protocol headers", () => {
    const merged = new Headers({ "x-request-id": "r1" });
    mergeNonProtocolHeaders(merged, failure().metadata);
    assert.deepEqual(
      [...merged],
      [
        ["x-app", "kept"],
        ["x-request-id", "r1"],
      ],
    );
  });

  it("getJsonOptions gives connect-node's default (unknown fields ignored) and keeps what is given", () => {
    assert.equal(getJsonOptions(undefined).ignoreUnknownFields, true);
    assert.equal(getJsonOptions({ ignoreUnknownFields: false }).ignoreUnknownFields, false);
  });

  it("codeToHttpStatus maps every code as the Connect protocol's table does", () => {
    const table: [Code, number][] = [
      [Code.Canceled, 499],
      [Code.Unknown, 500],
      [Code.InvalidArgument, 400],
      [Code.DeadlineExceeded, 504],
      [Code.NotFound, 404],
      [Code.AlreadyExists, 409],
      [Code.PermissionDenied, 403],
      [Code.ResourceExhausted, 429],
      [Code.FailedPrecondition, 400],
      [Code.Aborted, 409],
      [Code.OutOfRange, 400],
      [Code.Unimplemented, 501],
      [Code.Internal, 500],
      [Code.Unavailable, 503],
      [Code.DataLoss, 500],
      [Code.Unauthenticated, 401],
    ];
    for (const [code, status] of table) assert.equal(codeToHttpStatus(code), status, Code[code]);
  });

  it("the last-frame flags are the specs' (Connect end-stream 0x02, gRPC-Web trailers 0x80)", () => {
    assert.equal(endStreamFlag, 0b10);
    assert.equal(trailerFlag, 0x80);
  });

  it("errorToJsonBytes writes the code by name and the message, details only when there are some", () => {
    const json = JSON.parse(new TextDecoder().decode(errorToJsonBytes(failure(), {})));
    assert.deepEqual(json, { code: "invalid_argument", message: "bad: name é" });
  });

  it("endStreamToJson puts the error and the trailers together, without the error's protocol headers", () => {
    const end = endStreamToJson(new Headers({ "x-trailer": "t" }), failure(), undefined);
    assert.deepEqual(JSON.parse(JSON.stringify(end)), {
      error: { code: "invalid_argument", message: "bad: name é" },
      metadata: { "x-app": ["kept"], "x-trailer": ["t"] },
    });
    const wire = endStreamToJson(new Headers(), relayed(), undefined);
    assert.deepEqual(JSON.parse(JSON.stringify(wire)), { error: { code: "unavailable", message: "upstream failed" } });
  });

  it("setTrailerStatus sets the numeric status and the message, percent-encoded, and the error's own metadata", () => {
    const trailer = new Headers();
    setTrailerStatus(trailer, failure());
    assert.equal(trailer.get("grpc-status"), "3");
    assert.equal(decodeURIComponent(trailer.get("grpc-message") ?? ""), "bad: name é");
    assert.equal(trailer.get("x-app"), "kept");
    assert.equal(trailer.get("content-encoding"), null);
    const wire = new Headers();
    setTrailerStatus(wire, relayed());
    assert.deepEqual([...wire.keys()], ["grpc-message", "grpc-status"]);
  });

  it("trailerSerialize writes gRPC-Web's trailer block: lower-case names, CRLF after each line", () => {
    const text = new TextDecoder().decode(trailerSerialize(new Headers({ "grpc-status": "0", "X-App": "v" })));
    assert.equal(text, "grpc-status: 0\r\nx-app: v\r\n");
  });

  it("the timeout parsers read the specs' forms, refuse malformed ones, and report one over the maximum with its value", () => {
    const max = 2 ** 31 - 1;
    assert.deepEqual(parseConnectTimeout(null, max), {});
    assert.deepEqual(parseGrpcTimeout(null, max), {});
    assert.deepEqual(parseConnectTimeout("1500", max), { timeoutMs: 1500 });
    for (const [raw, ms] of [
      ["2S", 2000],
      ["250m", 250],
      ["1M", 60_000],
      ["1H", 3_600_000],
      ["1000u", 1],
    ] as const) {
      assert.deepEqual(parseGrpcTimeout(raw, max), { timeoutMs: ms }, raw);
    }
    for (const raw of ["", "x", "-1", "1.5", "10000000000"]) {
      const parsed = parseConnectTimeout(raw, max);
      assert.equal(parsed.error?.code, Code.InvalidArgument, raw);
      assert.equal(parsed.timeoutMs, undefined, raw);
    }
    for (const raw of ["1x", "123456789S", " 1S", "S"]) {
      const parsed = parseGrpcTimeout(raw, max);
      assert.equal(parsed.error?.code, Code.InvalidArgument, raw);
      assert.equal(parsed.timeoutMs, undefined, raw);
    }
    // timeouts.ts clamps what is legal but long: it needs the value, and no error under a large enough maximum.
    const long = parseGrpcTimeout("99999999H", max);
    assert.equal(long.error?.code, Code.InvalidArgument);
    assert.equal(long.timeoutMs, 99_999_999 * 3_600_000);
    assert.deepEqual(parseGrpcTimeout("99999999H", Number.MAX_SAFE_INTEGER), { timeoutMs: 99_999_999 * 3_600_000 });
  });

  it("a router's handlers are UniversalHandlers found by request path, as the gRPC-Web text mode looks them up", () => {
    const router = createConnectRouter();
    router.service(Greeter, {});
    const handler = router.handlers.find((h) => h.requestPath === `/${Greeter.typeName}/Greet`);
    assert.ok(handler, "no handler for Greet");
    assert.equal(typeof handler, "function");
    assert.ok(handler.protocolNames.includes("grpc-web"));
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContextValues } from "@connectrpc/connect";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { createFastPath, type FastPathOptions } from "./fast-path.js";

const routes: FastPathOptions["routes"] = (router) => {
  router.service(Greeter, { greet: () => ({ greeting: "hi" }) });
};

describe("createFastPath's options", () => {
  it("refuses an option it does not honour, naming it, rather than answering unlike connect-node", () => {
    // Options connect-node's adapter or connect-fastify take, which a spread of their options would bring.
    const foreign = { contextValues: () => createContextValues(), requestPathPrefix: "/api" };
    assert.throws(
      () => createFastPath({ routes, ...foreign } as FastPathOptions),
      (e: unknown) =>
        e instanceof Error &&
        /"contextValues", "requestPathPrefix"/.test(e.message) &&
        /leave them out/.test(e.message),
    );
  });

  it("takes every option it documents", () => {
    const fastPath = createFastPath({
      routes,
      interceptors: [],
      readMaxBytes: 1024,
      writeMaxBytes: 1024,
      compressMinBytes: 64,
      shutdownSignal: new AbortController().signal,
      jsonOptions: {},
      binaryOptions: {},
      maxTimeoutMs: 1000,
      requireConnectProtocolHeader: true,
      requestGate: () => undefined,
      grpc: true,
      grpcWeb: true,
      connect: true,
      corsOrigins: ["*"],
      corsExposedHeaders: [],
      neverIndexedHeaders: ["x-request-id"],
      onRefused: () => undefined,
      // An option given as undefined is no option.
      callInfoKey: undefined,
    });
    assert.deepEqual(fastPath.paths, [`/${Greeter.typeName}/Greet`, `/${Greeter.typeName}/GreetStream`]);
  });
});

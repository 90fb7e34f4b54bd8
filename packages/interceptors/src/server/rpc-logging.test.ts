import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { createRpcLoggingInterceptor, type RpcLogFields, type RpcLogger, type RpcLogLevel } from "./rpc-logging.js";

/** A logger that records every line it is handed, whatever its level says: the interceptor must ask. */
function recordingLogger(enabled?: readonly RpcLogLevel[]) {
  const lines: { level: RpcLogLevel; fields: RpcLogFields; message: string }[] = [];
  const at =
    (level: RpcLogLevel) =>
    (fields: RpcLogFields, message: string): void => {
      lines.push({ level, fields, message });
    };
  const logger: RpcLogger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  if (enabled) logger.isLevelEnabled = (level) => enabled.includes(level);
  return { logger, lines };
}

/** Greeter through connect's own handler code (in memory), behind the logging interceptor. */
function greeter(logger: RpcLogger) {
  const transport = createRouterTransport(
    ({ service }) =>
      service(Greeter, {
        greet(req) {
          if (req.name === "") throw new ConnectError("name is empty", Code.InvalidArgument);
          return { greeting: `Hello, ${req.name}!` };
        },
      }),
    { router: { interceptors: [createRpcLoggingInterceptor({ logger })] } },
  );
  return createClient(Greeter, transport);
}

describe("createRpcLoggingInterceptor and log levels", () => {
  it("makes no line for a call whose level is off (LOG_LEVEL=warn), and still logs a failure", async () => {
    const { logger, lines } = recordingLogger(["warn", "error"]);
    const client = greeter(logger);
    await client.greet({ name: "Ada" });
    await assert.rejects(client.greet({ name: "" }), { code: Code.InvalidArgument });
    assert.deepEqual(
      lines.map((l) => [l.level, l.message, l.fields.code, l.fields.error]),
      [["warn", "rpc failed", "invalid_argument", "name is empty"]],
    );
  });

  it("logs every call at its level when the logger cannot say which are on", async () => {
    const { logger, lines } = recordingLogger();
    const client = greeter(logger);
    await client.greet({ name: "Ada" });
    await assert.rejects(client.greet({ name: "" }));
    assert.deepEqual(
      lines.map((l) => [l.level, l.message, l.fields.procedure, l.fields.code]),
      [
        ["info", "rpc", "/greeter.v1.Greeter/Greet", "ok"],
        ["warn", "rpc failed", "/greeter.v1.Greeter/Greet", "invalid_argument"],
      ],
    );
  });
});

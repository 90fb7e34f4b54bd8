// The fair peer for the shipped Greeter: @grpc/grpc-js carrying the same
// chain, written with grpc-js's own server interceptors the way a competent
// engineer would: a request id echoed back, prom-client metrics with the
// standard gRPC names, one pino line per RPC with Greeter's fields, and
// @bufbuild/protovalidate with Greeter's rules (on protobuf-es messages, so
// the rules come from the same proto as Greeter's).
import { create, type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import {
  type GreetingRequest,
  GreetingRequestSchema,
  GreetingResponseSchema,
  type GreetStreamRequest,
  GreetStreamRequestSchema,
} from "@greeter/proto/greeter/v1/greeter_pb.js";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

const codeNames = Object.fromEntries(Object.entries(grpc.status).map(([name, code]) => [code, name]));

// Request id: the caller's if it sent one, else a per-process prefix and a counter (as Greeter makes them).
const idPrefix = `${Math.random().toString(16).slice(2, 14)}-`;
let idCounter = 0;
const requestId: grpc.ServerInterceptor = (_method, call) => {
  let id = "";
  return new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMetadata(metadata, mdNext) {
          const incoming = metadata.get("x-request-id")[0];
          id =
            typeof incoming === "string" && incoming.length <= 128 ? incoming : idPrefix + (++idCounter).toString(36);
          // Passed on in the metadata: the interceptors after this one (the log line) read it there.
          metadata.set("x-request-id", id);
          mdNext(metadata);
        },
      });
    },
    sendMetadata(metadata, next) {
      metadata.set("x-request-id", id);
      next(metadata);
    },
    sendStatus(status, next) {
      // A failed call may have sent no head (Trailers-Only): the id goes with its status.
      if (status.code !== grpc.status.OK) status.metadata?.set("x-request-id", id);
      next(status);
    },
  });
};

// Metrics: go-grpc-prometheus's names, which dashboards expect.
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const labels = ["grpc_type", "grpc_service", "grpc_method"];
const started = new Counter({
  name: "grpc_server_started_total",
  help: "RPCs started.",
  labelNames: labels,
  registers: [registry],
});
const handled = new Counter({
  name: "grpc_server_handled_total",
  help: "RPCs completed.",
  labelNames: [...labels, "grpc_code"],
  registers: [registry],
});
const seconds = new Histogram({
  name: "grpc_server_handling_seconds",
  help: "RPC latency.",
  labelNames: labels,
  registers: [registry],
});
const metrics: grpc.ServerInterceptor = (method, call) => {
  const [, service = "", name = ""] = method.path.split("/");
  const type = method.responseStream ? "server_stream" : "unary";
  const begin = process.hrtime.bigint();
  started.inc({ grpc_type: type, grpc_service: service, grpc_method: name });
  return new grpc.ServerInterceptingCall(call, {
    sendStatus(status, next) {
      const l = { grpc_type: type, grpc_service: service, grpc_method: name };
      handled.inc({ ...l, grpc_code: codeNames[status.code ?? 0] ?? "UNKNOWN" });
      seconds.observe(l, Number(process.hrtime.bigint() - begin) / 1e9);
      next(status);
    },
  });
};

// Logging: one line per RPC, Greeter's fields, pino's default stdout destination.
const logger = pino();
const logging: grpc.ServerInterceptor = (method, call) => {
  const begin = performance.now();
  let userAgent = "";
  let requestIdValue = "";
  let messagesIn = 0;
  let messagesOut = 0;
  return new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMetadata(metadata, mdNext) {
          userAgent = String(metadata.get("user-agent")[0] ?? "");
          requestIdValue = String(metadata.get("x-request-id")[0] ?? "");
          mdNext(metadata);
        },
        onReceiveMessage(message, msgNext) {
          messagesIn++;
          msgNext(message);
        },
      });
    },
    sendMessage(message, next) {
      messagesOut++;
      next(message);
    },
    sendStatus(status, next) {
      const code = status.code ?? 0;
      const fields = {
        procedure: method.path,
        streamType: method.responseStream ? "server_streaming" : "unary",
        protocol: "grpc",
        peer: call.getPeer(),
        requestId: requestIdValue,
        userAgent,
        code: codeNames[code]?.toLowerCase() ?? "unknown",
        durationMs: Math.round((performance.now() - begin) * 1000) / 1000,
        messagesIn,
        messagesOut,
      };
      if (code === grpc.status.OK) logger.info(fields, "rpc");
      else logger.warn({ ...fields, error: status.details }, "rpc failed");
      next(status);
    },
  });
};

// Validation: protovalidate on every request message; a violation is INVALID_ARGUMENT.
const validator = createValidator();
const validation: grpc.ServerInterceptor = (method, call) => {
  const schema = method.responseStream ? GreetStreamRequestSchema : GreetingRequestSchema;
  const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMessage(message: MessageShape<typeof schema>, msgNext) {
          const result = validator.validate(schema, message);
          if (result.kind === "valid") msgNext(message);
          else intercepting.sendStatus({ code: grpc.status.INVALID_ARGUMENT, details: String(result.error.message) });
        },
      });
    },
  });
  return intercepting;
};

const server = new grpc.Server({ interceptors: [requestId, metrics, logging, validation] });
function method<I extends DescMessage, O extends DescMessage>(
  path: string,
  input: I,
  output: O,
  responseStream: boolean,
): grpc.MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: (m) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b) => fromBinary(input, b),
    responseSerialize: (m) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b) => fromBinary(output, b),
  };
}

const service = {
  greet: method("/greeter.v1.Greeter/Greet", GreetingRequestSchema, GreetingResponseSchema, false),
  greetStream: method("/greeter.v1.Greeter/GreetStream", GreetStreamRequestSchema, GreetingResponseSchema, true),
};
server.addService(service, {
  greet(call: grpc.ServerUnaryCall<GreetingRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
    callback(null, create(GreetingResponseSchema, { greeting: `Hello, ${call.request.name}!`, language: "en" }));
  },
  greetStream(call: grpc.ServerWritableStream<GreetStreamRequest, unknown>) {
    for (let i = 0; i < call.request.count; i++) {
      call.write(create(GreetingResponseSchema, { greeting: `Hello, ${call.request.name}! (${i})`, language: "en" }));
    }
    call.end();
  },
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  // On stderr: stdout carries the log lines.
  console.error(`PORT ${port}`);
});

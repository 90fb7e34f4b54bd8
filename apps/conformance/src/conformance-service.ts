import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { type Any, anyPack } from "@bufbuild/protobuf/wkt";
import { type Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  BidiStreamRequestSchema,
  ClientStreamRequestSchema,
  type ConformancePayload,
  type ConformancePayload_RequestInfo,
  ConformancePayload_RequestInfoSchema,
  ConformancePayloadSchema,
  ConformanceService,
  type Error as ErrorDefinition,
  type Header,
  HeaderSchema,
  IdempotentUnaryRequestSchema,
  ServerStreamRequestSchema,
  type StreamResponseDefinition,
  UnaryRequestSchema,
  type UnaryResponseDefinition,
} from "./gen/connectrpc/conformance/v1/service_pb.js";

/**
 * `connectrpc.conformance.v1.ConformanceService` as the suite's
 * testing_servers.md describes it: every method echoes what it received
 * (headers, timeout, the requests) and answers as the request's response
 * definition says — headers, trailers, data, a delay, or an error carrying
 * the echo in its details.
 */
export function registerConformanceService(router: ConnectRouter): void {
  router.service(ConformanceService, {
    unary: (request, context) => answerOnce(request.responseDefinition, [pack(UnaryRequestSchema, request)], context),
    idempotentUnary: (request, context) =>
      answerOnce(request.responseDefinition, [pack(IdempotentUnaryRequestSchema, request)], context),
    async clientStream(requests, context) {
      let definition: UnaryResponseDefinition | undefined;
      const received: Any[] = [];
      for await (const request of requests) {
        if (received.length === 0) definition = request.responseDefinition;
        received.push(pack(ClientStreamRequestSchema, request));
      }
      return answerOnce(definition, received, context);
    },
    async *serverStream(request, context) {
      const definition = request.responseDefinition;
      setMetadata(context, definition);
      const info = requestInfo(context, [pack(ServerStreamRequestSchema, request)]);
      yield* answerStream(definition, info, 0);
    },
    async *bidiStream(requests, context) {
      let definition: StreamResponseDefinition | undefined;
      let first = true;
      let fullDuplex = false;
      let sent = 0;
      let unanswered: Any[] = [];
      for await (const request of requests) {
        if (first) {
          first = false;
          definition = request.responseDefinition;
          fullDuplex = request.fullDuplex;
          setMetadata(context, definition);
        }
        unanswered.push(pack(BidiStreamRequestSchema, request));
        // Full duplex: one answer per request while answers last; half
        // duplex: every answer once the client has sent everything.
        if (!fullDuplex) continue;
        const data = definition?.responseData[sent];
        if (data === undefined) break;
        await delay(definition?.responseDelayMs ?? 0);
        yield { payload: payload(data, requestInfo(context, unanswered)) };
        sent++;
        unanswered = [];
      }
      yield* answerStream(definition, requestInfo(context, unanswered), sent);
    },
  });
}

/** The rest of a stream's answers from the `sent`th on, the echo on the first of them (or on the error if none), then its error if it has one. */
async function* answerStream(
  definition: StreamResponseDefinition | undefined,
  info: ConformancePayload_RequestInfo,
  sent: number,
): AsyncGenerator<{ payload: ConformancePayload }> {
  const data = definition?.responseData ?? [];
  for (let i = sent; i < data.length; i++) {
    await delay(definition?.responseDelayMs ?? 0);
    yield { payload: payload(data[i] as Uint8Array, i === sent && sent === 0 ? info : undefined) };
  }
  if (definition?.error) throw errorFrom(definition.error, data.length === 0 ? info : undefined);
}

async function answerOnce(
  definition: UnaryResponseDefinition | undefined,
  requests: Any[],
  context: HandlerContext,
): Promise<{ payload: ConformancePayload }> {
  setMetadata(context, definition);
  const info = requestInfo(context, requests);
  if (definition?.response.case === "error") throw errorFrom(definition.response.value, info);
  await delay(definition?.responseDelayMs ?? 0);
  const data = definition?.response.case === "responseData" ? definition.response.value : new Uint8Array();
  return { payload: payload(data, info) };
}

function payload(data: Uint8Array, info: ConformancePayload_RequestInfo | undefined): ConformancePayload {
  return create(ConformancePayloadSchema, { data, requestInfo: info });
}

function requestInfo(context: HandlerContext, requests: Any[]): ConformancePayload_RequestInfo {
  const timeoutMs = context.timeoutMs();
  const requestHeaders: Header[] = [];
  context.requestHeader.forEach((value, name) => {
    requestHeaders.push(create(HeaderSchema, { name, value: [value] }));
  });
  return create(ConformancePayload_RequestInfoSchema, {
    requestHeaders,
    requests,
    timeoutMs: timeoutMs === undefined ? undefined : BigInt(timeoutMs),
  });
}

function setMetadata(
  context: HandlerContext,
  definition: { responseHeaders: Header[]; responseTrailers: Header[] } | undefined,
): void {
  for (const { name, value } of definition?.responseHeaders ?? []) {
    for (const v of value) context.responseHeader.append(name, v);
  }
  for (const { name, value } of definition?.responseTrailers ?? []) {
    for (const v of value) context.responseTrailer.append(name, v);
  }
}

/** The error a definition asks for; the echo, when no message carried it, goes in its details. */
function errorFrom(definition: ErrorDefinition, info: ConformancePayload_RequestInfo | undefined): ConnectError {
  const error = new ConnectError(definition.message ?? "", definition.code as number as Code);
  // Details as the definition gives them, already encoded: they are Anys of any type.
  for (const any of definition.details) {
    error.details.push({ type: any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1), value: any.value });
  }
  if (info) error.details.push({ desc: ConformancePayload_RequestInfoSchema, value: info });
  return error;
}

function pack<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Any {
  return anyPack(schema, message);
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { describe } from "./comments.js";
import {
  CONNECT_ERROR_SCHEMA_NAME,
  codesForStatus,
  connectErrorSchema,
  connectGetParameters,
  connectHeaderParameters,
  ERROR_STATUSES,
} from "./connect-http.js";
import type { Json, JsonSchema } from "./json.js";
import { SchemaRegistry } from "./json-schema.js";

export interface DocumentOptions {
  /** `info.title`. */
  title: string;
  /** `info.version`. */
  version: string;
  /** `info.description`, Markdown. */
  description?: string;
}

const STREAMING_NOTE: Record<Exclude<DescMethod["methodKind"], "unary">, string> = {
  server_streaming: "server streaming",
  client_streaming: "client streaming",
  bidi_streaming: "bidirectional streaming",
};

/**
 * An OpenAPI 3.1 document for `services`: every unary method as a Connect
 * POST with a JSON body (plus GET for methods without side effects), and the
 * streaming ones listed in their service's tag, since plain HTTP clients
 * cannot call them.
 */
export function buildDocument(services: readonly DescService[], options: DocumentOptions): { [key: string]: Json } {
  const schemas = new SchemaRegistry();
  const paths: Record<string, JsonSchema> = {};
  const tags: JsonSchema[] = [];
  for (const service of services) {
    const streaming = service.methods.filter((m) => m.methodKind !== "unary");
    const notes = streaming.map(
      (m) =>
        `- \`${m.name}\` (${STREAMING_NOTE[m.methodKind as keyof typeof STREAMING_NOTE]}) needs a Connect or gRPC client: see the proto.`,
    );
    const description = [describe(service), notes.length > 0 ? `Streaming methods:\n\n${notes.join("\n")}` : undefined]
      .filter((p) => p !== undefined)
      .join("\n\n");
    tags.push({ name: service.typeName, ...(description === "" ? {} : { description }) });
    for (const method of service.methods) {
      if (method.methodKind === "unary") paths[`/${service.typeName}/${method.name}`] = pathItem(method, schemas);
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: options.title,
      version: options.version,
      ...(options.description === undefined ? {} : { description: options.description }),
    },
    tags,
    paths,
    components: {
      schemas: { ...schemas.components(), [CONNECT_ERROR_SCHEMA_NAME]: connectErrorSchema },
      parameters: { ...connectHeaderParameters, ...connectGetParameters },
      responses: errorResponses(),
    },
  };
}

function pathItem(method: DescMethod, schemas: SchemaRegistry): JsonSchema {
  const input = schemas.ref(method.input);
  const common = {
    tags: [method.parent.typeName],
    summary: method.name,
    ...(describe(method) === undefined ? {} : { description: describe(method) ?? "" }),
    ...(method.deprecated ? { deprecated: true } : {}),
    responses: {
      "200": { description: "Success.", content: { "application/json": { schema: schemas.ref(method.output) } } },
      ...Object.fromEntries(ERROR_STATUSES.map((s) => [String(s), { $ref: `#/components/responses/${s}` }])),
      // Before any Connect error: the request is not one the protocol reads.
      "415": {
        description:
          "Unsupported media type: a POST's Content-Type, or a GET's `encoding`, that the server does not read. The body is empty.",
      },
    },
  };
  const item: JsonSchema = {
    post: {
      operationId: `${method.parent.typeName}.${method.name}`,
      ...common,
      parameters: headerRefs(),
      requestBody: { required: true, content: { "application/json": { schema: input } } },
    },
  };
  // Only methods declared free of side effects may be called with GET: a
  // cacheable URL carries the request.
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) {
    item.get = {
      operationId: `${method.parent.typeName}.${method.name}.get`,
      ...common,
      parameters: [
        {
          name: "message",
          in: "query",
          required: true,
          description: `The ${method.input.name} as JSON, URL-encoded.`,
          content: { "application/json": { schema: input } },
        },
        ...Object.keys(connectGetParameters).map((name) => ({ $ref: `#/components/parameters/${name}` })),
        { $ref: "#/components/parameters/connect-timeout-ms" },
      ],
    };
  }
  return item;
}

function headerRefs(): JsonSchema[] {
  return Object.keys(connectHeaderParameters).map((name) => ({ $ref: `#/components/parameters/${name}` }));
}

function errorResponses(): Record<string, JsonSchema> {
  return Object.fromEntries(
    ERROR_STATUSES.map((status) => [
      String(status),
      {
        description: `A Connect error: ${codesForStatus(status).join(", ")}.`,
        content: { "application/json": { schema: { $ref: `#/components/schemas/${CONNECT_ERROR_SCHEMA_NAME}` } } },
      },
    ]),
  );
}

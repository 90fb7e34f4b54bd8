import { type DescEnum, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { descriptionOf } from "./comments.js";
import type { JsonSchema } from "./json.js";
import { isRequired, validationSchema } from "./validation-rules.js";

/**
 * JSON Schemas for Protobuf messages and enums as the proto3 JSON mapping
 * writes them (https://protobuf.dev/programming-guides/json/), which is what
 * Connect's JSON codec sends and accepts: lowerCamelCase field names, 64-bit
 * integers as strings, enums by name, bytes as base64, and the well-known
 * types in their special forms.
 */
export class SchemaRegistry {
  private readonly schemas = new Map<string, JsonSchema>();
  private readonly pending: (DescMessage | DescEnum)[] = [];

  /** A reference to the schema of `desc`, which the registry will define. */
  ref(desc: DescMessage | DescEnum): JsonSchema {
    if (!this.schemas.has(desc.typeName) && !this.pending.includes(desc)) this.pending.push(desc);
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }

  /** Every schema referenced so far and the ones they reference, by full name. */
  components(): Record<string, JsonSchema> {
    for (let desc = this.pending.shift(); desc !== undefined; desc = this.pending.shift()) {
      if (this.schemas.has(desc.typeName)) continue;
      this.schemas.set(desc.typeName, desc.kind === "enum" ? enumSchema(desc) : this.messageSchema(desc));
    }
    return Object.fromEntries([...this.schemas.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  private messageSchema(message: DescMessage): JsonSchema {
    const wellKnown = wellKnownSchema(message);
    if (wellKnown !== undefined) return { ...wellKnown, ...descriptionOf(message) };
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const field of message.fields) {
      const validation = validationSchema(field);
      properties[field.jsonName] = {
        ...this.fieldSchema(field),
        ...validation.schema,
        ...descriptionOf(field, [oneofNote(field), ...validation.notes]),
        ...(field.deprecated ? { deprecated: true } : {}),
      };
      if (isRequired(field)) required.push(field.jsonName);
    }
    return {
      type: "object",
      title: message.name,
      ...descriptionOf(message),
      properties,
      // Proto3 JSON leaves fields at their default out, so only what
      // protovalidate requires is required.
      ...(required.length > 0 ? { required } : {}),
      // Other properties are allowed: Connect servers ignore JSON fields
      // they do not know (connect-es's default), so a newer client's
      // request still reads.
    };
  }

  private fieldSchema(field: DescField): JsonSchema {
    switch (field.fieldKind) {
      case "scalar":
        return scalarSchema(field.scalar);
      case "enum":
        return this.ref(field.enum);
      case "message":
        return this.ref(field.message);
      case "list":
        return {
          type: "array",
          items:
            field.listKind === "scalar"
              ? scalarSchema(field.scalar)
              : this.ref(field.listKind === "enum" ? field.enum : field.message),
        };
      case "map":
        return {
          type: "object",
          propertyNames: mapKeySchema(field.mapKey),
          additionalProperties:
            field.mapKind === "scalar"
              ? scalarSchema(field.scalar)
              : this.ref(field.mapKind === "enum" ? field.enum : field.message),
        };
    }
  }
}

function oneofNote(field: DescField): string | undefined {
  const oneof =
    field.fieldKind === "scalar" || field.fieldKind === "enum" || field.fieldKind === "message"
      ? field.oneof
      : undefined;
  if (oneof === undefined || oneof.fields.length < 2) return undefined;
  const names = oneof.fields.map((f) => `\`${f.jsonName}\``).join(", ");
  return `Part of the oneof \`${oneof.name}\`: set at most one of ${names}.`;
}

const NON_FINITE = { type: "string", enum: ["NaN", "Infinity", "-Infinity"] };

/** The JSON form of each scalar type. */
export function scalarSchema(scalar: ScalarType): JsonSchema {
  switch (scalar) {
    case ScalarType.DOUBLE:
      return { anyOf: [{ type: "number", format: "double" }, NON_FINITE] };
    case ScalarType.FLOAT:
      return { anyOf: [{ type: "number", format: "float" }, NON_FINITE] };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32", minimum: -2147483648, maximum: 2147483647 };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32", minimum: 0, maximum: 4294967295 };
    // Beyond 2^53 a JSON number loses digits in JavaScript, so the mapping
    // writes 64-bit integers as decimal strings.
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: "^[0-9]+$" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte", contentEncoding: "base64" };
  }
}

/** JSON object keys are strings: map keys of other types are written in their decimal or true/false form. */
function mapKeySchema(key: ScalarType): JsonSchema {
  if (key === ScalarType.STRING) return { type: "string" };
  if (key === ScalarType.BOOL) return { type: "string", enum: ["true", "false"] };
  return {
    type: "string",
    pattern:
      key === ScalarType.UINT32 || key === ScalarType.UINT64 || key === ScalarType.FIXED32 || key === ScalarType.FIXED64
        ? "^[0-9]+$"
        : "^-?[0-9]+$",
  };
}

function enumSchema(desc: DescEnum): JsonSchema {
  if (desc.typeName === "google.protobuf.NullValue") return { type: "null", ...descriptionOf(desc) };
  return {
    type: "string",
    title: desc.name,
    ...descriptionOf(desc),
    enum: desc.values.map((v) => v.name),
  };
}

const WRAPPERS: Record<string, ScalarType> = {
  "google.protobuf.DoubleValue": ScalarType.DOUBLE,
  "google.protobuf.FloatValue": ScalarType.FLOAT,
  "google.protobuf.Int64Value": ScalarType.INT64,
  "google.protobuf.UInt64Value": ScalarType.UINT64,
  "google.protobuf.Int32Value": ScalarType.INT32,
  "google.protobuf.UInt32Value": ScalarType.UINT32,
  "google.protobuf.BoolValue": ScalarType.BOOL,
  "google.protobuf.StringValue": ScalarType.STRING,
  "google.protobuf.BytesValue": ScalarType.BYTES,
};

/** The special JSON forms of the well-known types, or undefined for an ordinary message. */
function wellKnownSchema(message: DescMessage): JsonSchema | undefined {
  const wrapped = WRAPPERS[message.typeName];
  if (wrapped !== undefined) return { anyOf: [scalarSchema(wrapped), { type: "null" }] };
  switch (message.typeName) {
    case "google.protobuf.Timestamp":
      return { type: "string", format: "date-time", examples: ["1972-01-01T10:00:20.021Z"] };
    case "google.protobuf.Duration":
      return { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", examples: ["1.5s"] };
    case "google.protobuf.FieldMask":
      return { type: "string", examples: ["user.displayName,photo"] };
    case "google.protobuf.Struct":
      return { type: "object", additionalProperties: true };
    case "google.protobuf.Value":
      return {};
    case "google.protobuf.ListValue":
      return { type: "array" };
    case "google.protobuf.Empty":
      return { type: "object" };
    case "google.protobuf.Any":
      return {
        type: "object",
        properties: { "@type": { type: "string", examples: ["type.googleapis.com/google.rpc.BadRequest"] } },
        required: ["@type"],
        additionalProperties: true,
      };
    default:
      return undefined;
  }
}

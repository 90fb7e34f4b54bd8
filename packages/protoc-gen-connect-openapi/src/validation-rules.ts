import { type DescField, getOption, hasOption, isFieldSet } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import {
  type FieldRules,
  field as fieldRules,
  StringRulesSchema,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { JsonSchema } from "./json.js";

/**
 * What a field's protovalidate rules (`(buf.validate.field)`) say in JSON
 * Schema: bounds of 32-bit numbers and floats, string lengths (both count
 * characters), constants. CEL rules have no JSON Schema form in general:
 * they are listed in the description, with their messages; the one CEL
 * idiom for "not blank" on a string, `this.trim() != ''`, is also the
 * pattern `\S` (protovalidate-es trims as JavaScript does, which is what
 * `\s` means in an ECMAScript pattern). 64-bit bounds stay in the proto
 * (their JSON form is a string).
 */
export function validationSchema(field: DescField): { schema: JsonSchema; notes: string[] } {
  if (!hasOption(field, fieldRules)) return { schema: {}, notes: [] };
  const rules = getOption(field, fieldRules);
  const schema: JsonSchema = { ...typeRules(rules) };
  const expressions = [...rules.cel.map((rule) => rule.expression), ...rules.celExpression];
  if (field.fieldKind === "scalar" && expressions.some((e) => NOT_BLANK.test(e))) {
    schema.minLength = Math.max(1, Number(schema.minLength ?? 0));
    schema.pattern = "\\S";
  }
  const notes = [
    ...rules.cel.map((rule) => `\`${rule.id}\`: ${rule.message || rule.expression}`),
    ...rules.celExpression.map((expression) => `\`${expression}\``),
  ];
  return { schema, notes: notes.length > 0 ? [`Validation rules (protovalidate): ${notes.join("; ")}.`] : [] };
}

/** `this.trim() != ''` (either quote, any spacing): a string that is not blank. */
const NOT_BLANK = /^\s*this\.trim\(\)\s*!=\s*(''|"")\s*$/;

/**
 * Whether the rules make the field required (a value other than its
 * default): `required`, or, for a string without explicit presence, a rule
 * the empty string breaks (not blank, a minimum length). In JSON such a
 * field left out reads as "", which the server then refuses.
 */
export function isRequired(field: DescField): boolean {
  if (!hasOption(field, fieldRules)) return false;
  const rules = getOption(field, fieldRules);
  if (rules.required) return true;
  if (field.fieldKind !== "scalar" || field.presence !== FeatureSet_FieldPresence.IMPLICIT) return false;
  const { minLength } = typeRules(rules);
  const expressions = [...rules.cel.map((rule) => rule.expression), ...rules.celExpression];
  return Number(minLength ?? 0) > 0 || expressions.some((e) => NOT_BLANK.test(e));
}

type NumberRules = {
  const?: number;
  lessThan: { case: "lt" | "lte"; value: number } | { case: undefined; value?: undefined };
  greaterThan: { case: "gt" | "gte"; value: number } | { case: undefined; value?: undefined };
};

const NUMBER_KINDS = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32", "float", "double"]);

function typeRules(rules: FieldRules): JsonSchema {
  const { type } = rules;
  if (type.case === "string") {
    const s = type.value;
    const out: JsonSchema = {};
    if (isFieldSet(s, StringRulesSchema.field.minLen)) out.minLength = Number(s.minLen);
    if (isFieldSet(s, StringRulesSchema.field.maxLen)) out.maxLength = Number(s.maxLen);
    if (isFieldSet(s, StringRulesSchema.field.len)) out.minLength = out.maxLength = Number(s.len);
    if (isFieldSet(s, StringRulesSchema.field.const)) out.const = s.const;
    return out;
  }
  if (type.case !== undefined && NUMBER_KINDS.has(type.case)) {
    const n = type.value as unknown as NumberRules;
    const out: JsonSchema = {};
    if (n.lessThan.case === "lt") out.exclusiveMaximum = n.lessThan.value;
    if (n.lessThan.case === "lte") out.maximum = n.lessThan.value;
    if (n.greaterThan.case === "gt") out.exclusiveMinimum = n.greaterThan.value;
    if (n.greaterThan.case === "gte") out.minimum = n.greaterThan.value;
    return out;
  }
  return {};
}

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { create, createFileRegistry, fromBinary, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  anyPack,
  DurationSchema,
  FileDescriptorSetSchema,
  StructSchema,
  TimestampSchema,
} from "@bufbuild/protobuf/wkt";
import { compileErrors, validate } from "@readme/openapi-parser";
import { Ajv2020 } from "ajv/dist/2020.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
const BUF = join(ROOT, "node_modules/.bin/buf");

// A proto with every shape the proto3 JSON mapping treats specially.
const KITCHEN_PROTO = `syntax = "proto3";
package kitchen.v1;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

// Kitchen cooks.
service Kitchen {
  // Cook makes a dish.
  rpc Cook(Dish) returns (google.protobuf.Empty);
  // Peek looks without touching.
  rpc Peek(Dish) returns (Dish) { option idempotency_level = NO_SIDE_EFFECTS; }
  rpc Watch(Dish) returns (stream Dish);
  rpc Old(Dish) returns (Dish) { option deprecated = true; }
}

// Colour of a dish.
enum Color {
  COLOR_UNSPECIFIED = 0;
  COLOR_RED = 1;
}

// Dish has one field of each kind.
message Dish {
  int32 small = 1;
  int64 big = 2;
  uint64 huge = 3;
  double ratio = 4;
  bool hot = 5;
  bytes photo = 6;
  Color color = 7;
  repeated string tags = 8;
  map<int32, Part> parts_by_id = 9;
  google.protobuf.Timestamp cooked_at = 10;
  google.protobuf.Duration took = 11;
  google.protobuf.Int64Value maybe = 12;
  oneof serving {
    string plate = 13;
    int32 bowls = 14;
  }
  optional string nickname = 15;
  Dish side = 16;
  // Use color instead.
  string old_colour = 17 [deprecated = true];
  google.protobuf.Struct meta = 18;
  google.protobuf.Any extra = 19;
  // Part is a piece of a dish.
  message Part {
    string snake_case_name = 1;
  }
}
`;

// Protovalidate rules of each kind the plugin maps.
const RULES_PROTO = `syntax = "proto3";
package shop.v1;
import "buf/validate/validate.proto";

service Shop {
  rpc Buy(Order) returns (Order);
}

message Order {
  string sku = 1 [
    (buf.validate.field).required = true,
    (buf.validate.field).cel = { id: "sku.upper", message: "must be upper case", expression: "this.upperAscii() == this" }
  ];
  uint32 quantity = 2 [(buf.validate.field).uint32 = { gte: 1, lte: 100 }];
  double discount = 3 [(buf.validate.field).double.lt = 1];
  string note = 4 [(buf.validate.field).string = { min_len: 2, max_len: 50 }];
  string title = 5 [(buf.validate.field).cel = { id: "title.not_blank", message: "must not be blank", expression: "this.trim() != ''" }];
  optional string gift_note = 6 [(buf.validate.field).string.min_len = 1];
}
`;

type Doc = {
  info: { title: string; version: string };
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, { operationId: string; deprecated?: boolean; description?: string }>>;
  components: {
    schemas: Record<string, { properties?: Record<string, Record<string, unknown>> } & Record<string, unknown>>;
  };
};

let dir: string;
let doc: Doc;
let registry: ReturnType<typeof createFileRegistry>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "openapi-plugin-"));
  await mkdir(join(dir, "proto/kitchen/v1"), { recursive: true });
  await writeFile(join(dir, "proto/kitchen/v1/kitchen.proto"), KITCHEN_PROTO);
  const template = {
    version: "v2",
    plugins: [
      {
        local: [join(ROOT, "node_modules/.bin/tsx"), join(import.meta.dirname, "main.ts")],
        out: join(dir, "out"),
        opt: ["version=1.2.3"],
      },
    ],
  };
  await run(BUF, ["generate", join(dir, "proto"), "--template", JSON.stringify(template)], { cwd: dir });
  doc = JSON.parse(await readFile(join(dir, "out/kitchen/v1/kitchen.openapi.json"), "utf8")) as Doc;
  // The same proto, compiled, to write real messages in the JSON mapping.
  await run(BUF, ["build", join(dir, "proto"), "-o", join(dir, "image.binpb")], { cwd: dir });
  registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, await readFile(join(dir, "image.binpb"))));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("protoc-gen-connect-openapi", () => {
  test("writes a document that a real OpenAPI 3.1 validator accepts", async () => {
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    assert.deepEqual(doc.info, { title: "kitchen.v1", version: "1.2.3" });
  });

  test("describes unary methods as Connect POSTs, GET only without side effects, streams in the tag", () => {
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      "/kitchen.v1.Kitchen/Cook",
      "/kitchen.v1.Kitchen/Old",
      "/kitchen.v1.Kitchen/Peek",
    ]);
    assert.deepEqual(Object.keys(doc.paths["/kitchen.v1.Kitchen/Cook"] ?? {}), ["post"]);
    assert.deepEqual(Object.keys(doc.paths["/kitchen.v1.Kitchen/Peek"] ?? {}).sort(), ["get", "post"]);
    assert.equal(doc.paths["/kitchen.v1.Kitchen/Old"]?.post?.deprecated, true);
    assert.equal(doc.paths["/kitchen.v1.Kitchen/Cook"]?.post?.description, "Cook makes a dish.");
    const tag = doc.tags.find((t) => t.name === "kitchen.v1.Kitchen");
    assert.match(tag?.description ?? "", /^Kitchen cooks\./);
    assert.match(tag?.description ?? "", /`Watch` \(server streaming\) needs a Connect or gRPC client/);
  });

  test("maps fields as proto3 JSON does: camelCase, 64-bit as strings, enums by name, comments", () => {
    const dish = doc.components.schemas["kitchen.v1.Dish"];
    const props = dish?.properties ?? {};
    assert.equal(dish?.description, "Dish has one field of each kind.");
    assert.ok("partsById" in props && "cookedAt" in props && "oldColour" in props, Object.keys(props).join());
    assert.equal(props.big?.type, "string");
    assert.equal(props.huge?.pattern, "^[0-9]+$");
    assert.equal(props.small?.type, "integer");
    assert.equal(props.photo?.contentEncoding, "base64");
    assert.deepEqual(props.color, { $ref: "#/components/schemas/kitchen.v1.Color" });
    assert.deepEqual(doc.components.schemas["kitchen.v1.Color"]?.enum, ["COLOR_UNSPECIFIED", "COLOR_RED"]);
    assert.equal(props.oldColour?.deprecated, true);
    assert.equal(props.oldColour?.description, "Use color instead.");
    assert.match(String(props.plate?.description), /oneof `serving`: set at most one of `plate`, `bowls`/);
    assert.equal(doc.components.schemas["google.protobuf.Timestamp"]?.format, "date-time");
    assert.ok(doc.components.schemas["kitchen.v1.Dish.Part"]?.properties?.snakeCaseName);
  });

  test("every message written by protobuf-es in the JSON mapping matches its schema", () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: "doc", components: doc.components });
    const check = ajv.getSchema("doc#/components/schemas/kitchen.v1.Dish");
    assert.ok(check);
    const Dish = registry.getMessage("kitchen.v1.Dish");
    const Part = registry.getMessage("kitchen.v1.Dish.Part");
    assert.ok(Dish && Part);
    const full = create(Dish, {
      small: -5,
      big: -(2n ** 60n),
      huge: 2n ** 63n,
      ratio: Number.NaN,
      hot: true,
      photo: new Uint8Array([1, 2, 250]),
      color: 1,
      tags: ["a", "b"],
      partsById: { 7: create(Part, { snakeCaseName: "crust" }) },
      cookedAt: create(TimestampSchema, { seconds: 1n, nanos: 5 }),
      took: create(DurationSchema, { seconds: 2n, nanos: 500_000_000 }),
      maybe: 9n,
      serving: { case: "bowls", value: 2 },
      nickname: "",
      side: create(Dish, { plate: "small" } as never),
      meta: create(StructSchema, { fields: { a: { kind: { case: "numberValue", value: 1 } } } }),
      extra: anyPack(TimestampSchema, create(TimestampSchema, { seconds: 3n })),
    } as never);
    for (const message of [full, create(Dish)]) {
      const json: JsonValue = toJson(Dish, message, { registry });
      assert.ok(check(json), `${JSON.stringify(json)}: ${ajv.errorsText(check.errors)}`);
    }
    // And the schema is not a blank cheque: a number where the mapping writes a string fails.
    assert.equal(check({ big: 5 }), false);
    assert.equal(check({ tags: "a" }), false);
    // Fields it does not know are allowed, as Connect servers ignore them.
    assert.equal(check({ parts_by_id: {} }), true);
  });

  test("turns protovalidate rules into JSON Schema bounds, and CEL rules into descriptions", async () => {
    await mkdir(join(dir, "rules/shop/v1"), { recursive: true });
    await writeFile(join(dir, "rules/shop/v1/shop.proto"), RULES_PROTO);
    // protoc takes buf/validate/validate.proto from the Greeter image, which carries it (see build-image.ts).
    const image = join(dir, "rules.binpb");
    await run("protoc", [
      `--descriptor_set_in=${join(ROOT, "packages/proto/descriptors/greeter.binpb")}`,
      `--proto_path=${join(dir, "rules")}`,
      "--include_imports",
      "--include_source_info",
      `--descriptor_set_out=${image}`,
      "shop/v1/shop.proto",
    ]);
    const template = {
      version: "v2",
      plugins: [
        { local: [join(ROOT, "node_modules/.bin/tsx"), join(import.meta.dirname, "main.ts")], out: join(dir, "shop") },
      ],
    };
    await run(BUF, ["generate", image, "--path", "shop/v1/shop.proto", "--template", JSON.stringify(template)], {
      cwd: dir,
    });
    const shop = JSON.parse(await readFile(join(dir, "shop/shop/v1/shop.openapi.json"), "utf8")) as Doc;
    const order = shop.components.schemas["shop.v1.Order"];
    const props = order?.properties ?? {};
    assert.deepEqual([props.quantity?.minimum, props.quantity?.maximum], [1, 100]);
    assert.equal(props.discount?.exclusiveMaximum, 1);
    assert.deepEqual([props.note?.minLength, props.note?.maxLength], [2, 50]);
    // A string the empty string breaks is required: left out, it reads as "".
    // Not one with explicit presence (`optional`): unset, its rules do not apply.
    assert.deepEqual(order?.required, ["sku", "note", "title"]);
    // The not-blank idiom is also a pattern, so a generator of valid data does not send "  ".
    assert.deepEqual([props.title?.minLength, props.title?.pattern], [1, "\\S"]);
    // Unknown fields are allowed: Connect servers ignore them.
    assert.equal(order?.additionalProperties, undefined);
    assert.match(String(props.sku?.description), /`sku.upper`: must be upper case/);
  });

  test("rejects an unknown option with a message naming it", async () => {
    const template = {
      version: "v2",
      plugins: [
        {
          local: [join(ROOT, "node_modules/.bin/tsx"), join(import.meta.dirname, "main.ts")],
          out: join(dir, "bad"),
          opt: ["colour=red"],
        },
      ],
    };
    await assert.rejects(
      run(BUF, ["generate", join(dir, "proto"), "--template", JSON.stringify(template)], { cwd: dir }),
      /unknown option "colour"/,
    );
  });
});

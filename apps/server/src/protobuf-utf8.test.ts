import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GreetingResponseSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { encodeShortAscii, useFastUtf8Encoding } from "./protobuf-utf8.js";

describe("fast UTF-8 encoding for protobuf-es", () => {
  const samples = ["", "en", "Hello, Ada!", "x".repeat(128), "x".repeat(129), "Grüß Gott", "你好", "😀", "a\uD800b"];

  it("takes only short ASCII, and gives exactly TextEncoder's bytes for it", () => {
    const te = new TextEncoder();
    for (const text of samples) {
      const fast = encodeShortAscii(text);
      const ascii = [...text].every((c) => c.charCodeAt(0) < 0x80) && text.length <= 128;
      assert.equal(fast !== undefined, ascii, JSON.stringify(text));
      if (fast) assert.deepEqual(fast, te.encode(text));
    }
  });

  it("once installed, messages encode to the same bytes and decode back, whatever the text", () => {
    const before = samples.map((greeting) =>
      toBinary(GreetingResponseSchema, create(GreetingResponseSchema, { greeting, language: "en" })),
    );
    useFastUtf8Encoding();
    samples.forEach((greeting, i) => {
      const bytes = toBinary(GreetingResponseSchema, create(GreetingResponseSchema, { greeting, language: "en" }));
      assert.deepEqual(bytes, before[i]);
      // A lone surrogate becomes U+FFFD, as TextEncoder makes it.
      assert.equal(fromBinary(GreetingResponseSchema, bytes).greeting, greeting.replace("\uD800", "\uFFFD"));
    });
  });
});

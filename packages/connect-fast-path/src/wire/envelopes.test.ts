import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { encodeGrpcMessage, parseSingleEnvelope } from "./envelopes.js";

// Cases the differential test (apps/conformance/test/differential.test.ts) found.

function envelope(flags: number, bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

describe("encodeGrpcMessage", () => {
  it("encodes spaces at either end, which an HTTP/2 field value may not have (Node's client dropped the field)", () => {
    assert.equal(encodeGrpcMessage("  padded  "), "%20%20padded%20%20");
    assert.equal(encodeGrpcMessage(" é"), "%20%C3%A9");
    assert.equal(encodeGrpcMessage("plain text"), "plain text");
    assert.equal(decodeURIComponent(encodeGrpcMessage(" 100% ")), " 100% ");
  });
});

describe("parseSingleEnvelope with the protocol's end flag", () => {
  const message = toBinary(StringValueSchema, create(StringValueSchema, { value: "a" }));
  const read = (body: Buffer, endFlag?: number) =>
    parseSingleEnvelope(body, StringValueSchema, { methodKind: "server-streaming", endFlag });

  it("skips an envelope with the end flag, as connect-node does: it is no message", () => {
    const alone = read(envelope(0x02, message), 0x02);
    assert.ok(alone instanceof ConnectError);
    assert.match(alone.message, /missing input message/);
    assert.equal(
      (read(Buffer.concat([envelope(0, message), envelope(0x80, message)]), 0x80) as { value: string }).value,
      "a",
    );
    assert.equal(
      (read(Buffer.concat([envelope(0x02, message), envelope(0, message)]), 0x02) as { value: string }).value,
      "a",
    );
  });

  it("reads it as a message where the protocol has no end flag (gRPC)", () => {
    assert.equal((read(envelope(0x80, message)) as { value: string }).value, "a");
  });
});

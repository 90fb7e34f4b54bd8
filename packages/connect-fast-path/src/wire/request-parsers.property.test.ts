import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout } from "@connectrpc/connect/protocol-grpc";
import { type GreetingRequest, GreetingRequestSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import fc from "fast-check";
import { MAX_TIMEOUT_MS } from "../call/timeouts.js";
import { decodeBase64, decodeBase64Stream } from "../protocol-grpc-web/base64-frames.js";
import { envelope, parseSingleEnvelope } from "./envelopes.js";

// Property tests of the parsers on the request path: each input either
// decodes to what a reference decoding says, or fails with a ConnectError of
// the right code; nothing else is ever thrown. The seed is fixed so a failure
// reproduces; the run count is in each test's name.
const RUNS = 500;
const params = { numRuns: RUNS, seed: 20261203 };

function codeOf(e: unknown): Code | "not a ConnectError" {
  return e instanceof ConnectError ? e.code : "not a ConnectError";
}

/** Splits `text` at the given fractions of its length. */
function splitAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * text.length)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let last = 0;
  for (const p of points) {
    pieces.push(text.slice(last, p));
    last = p;
  }
  pieces.push(text.slice(last));
  return pieces;
}

describe("envelope framing (parseSingleEnvelope)", () => {
  it(`decodes every well-formed envelope of a GreetingRequest to the same message (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (name) => {
        const bytes = toBinary(GreetingRequestSchema, create(GreetingRequestSchema, { name }));
        const parsed = parseSingleEnvelope(envelope(bytes, false), GreetingRequestSchema);
        assert.ok(!(parsed instanceof ConnectError), String(parsed));
        assert.equal((parsed as GreetingRequest).name, name);
      }),
      params,
    );
  });

  it(`answers any bytes with a message or the code connect-node gives, and never throws (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 255 }), (payload, flags) => {
        const body = Buffer.concat([Buffer.from([flags]), Buffer.alloc(4), payload]);
        body.writeUInt32BE(payload.length, 1);
        for (const input of [Buffer.from(payload), body]) {
          const parsed = parseSingleEnvelope(input, GreetingRequestSchema);
          if (parsed instanceof ConnectError) {
            assert.ok(
              [Code.InvalidArgument, Code.Internal, Code.Unimplemented, Code.ResourceExhausted].includes(parsed.code),
              parsed.message,
            );
          }
        }
        // The compressed flag, without compression, is refused, whatever follows.
        if (flags & 1) assert.equal(codeOf(parseSingleEnvelope(body, GreetingRequestSchema)), Code.Internal);
      }),
      params,
    );
  });

  it(`refuses a length prefix that does not match the body, cut or extended anywhere (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), fc.integer({ min: -60, max: 60 }), (name, delta) => {
        const bytes = toBinary(GreetingRequestSchema, create(GreetingRequestSchema, { name }));
        const whole = envelope(bytes, false);
        const cut = delta < 0 ? whole.subarray(0, Math.max(0, whole.length + delta)) : whole;
        const body = delta > 0 ? Buffer.concat([whole, Buffer.alloc(delta)]) : cut;
        const parsed = parseSingleEnvelope(body, GreetingRequestSchema);
        // As connect-node: nothing at all, or a second whole envelope (five
        // zero bytes are one), is UNIMPLEMENTED; anything cut, INVALID_ARGUMENT.
        if (delta === 0) assert.ok(!(parsed instanceof ConnectError));
        else if (body.length === 0 || delta >= 5) assert.equal(codeOf(parsed), Code.Unimplemented);
        else assert.equal(codeOf(parsed), Code.InvalidArgument);
      }),
      params,
    );
  });
});

describe("envelope sizes (parseSingleEnvelope with readMaxBytes)", () => {
  it(`refuses any declared length over the limit with RESOURCE_EXHAUSTED, whatever follows (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        fc.uint8Array({ maxLength: 16 }),
        (limit, declared, rest) => {
          const body = Buffer.concat([Buffer.alloc(5), rest]);
          body.writeUInt32BE(declared, 1);
          const parsed = parseSingleEnvelope(body, GreetingRequestSchema, { readMaxBytes: limit });
          if (declared > limit) {
            assert.equal(codeOf(parsed), Code.ResourceExhausted);
            assert.equal(
              (parsed as ConnectError).rawMessage,
              `message size ${declared} is larger than configured readMaxBytes ${limit}`,
            );
          } else {
            // A second envelope's header is checked too, as connect-node's reader does.
            const second = 5 + declared;
            const secondOver = body.length >= second + 5 && body.readUInt32BE(second + 1) > limit;
            assert.equal(codeOf(parsed) === Code.ResourceExhausted, secondOver);
          }
        },
      ),
      params,
    );
  });
});

describe("gRPC-Web text (base64 frames)", () => {
  it("decodes padded pieces one after the other (found by the property below: Node stops at the first padding)", () => {
    assert.deepEqual(decodeBase64("AA==AA=="), Buffer.from([0, 0]));
    assert.deepEqual(decodeBase64("AAAAAAU=CgNBZGE="), Buffer.from([0, 0, 0, 0, 5, 10, 3, 65, 100, 97]));
  });

  it(`decodes frames each base64'd, with whitespace anywhere and split into chunks anywhere (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
        fc.array(fc.constantFrom(" ", "\n", "\r\n", "\t"), { maxLength: 3 }),
        async (frames, cuts, spaces) => {
          const text = frames.map((f) => Buffer.from(f).toString("base64")).join(spaces.join(""));
          const expected = Buffer.concat(frames.map((f) => Buffer.from(f)));
          assert.deepEqual(decodeBase64(text), expected);
          const chunks = splitAt(text, cuts);
          const decoded: Uint8Array[] = [];
          for await (const piece of decodeBase64Stream(
            (async function* () {
              yield* chunks;
            })(),
          ))
            decoded.push(piece);
          assert.deepEqual(Buffer.concat(decoded), expected);
        },
      ),
      params,
    );
  });

  it(`either decodes any text as Node would, or refuses it with INVALID_ARGUMENT, never a throw (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."AZaz09+/=-_ .\n*"), maxLength: 24 }), (text) => {
        const decoded = decodeBase64(text);
        if (decoded instanceof ConnectError) {
          assert.equal(decoded.code, Code.InvalidArgument);
          return;
        }
        // The reference: each padded piece decoded on its own, and only
        // whole quanta of the base64 alphabet were accepted.
        const stripped = text.replace(/[\r\n\t ]+/g, "");
        assert.match(stripped, /^([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)*$/);
        const pieces = stripped.match(/[^=]*=*/g)?.filter((p) => p !== "") ?? [];
        assert.deepEqual(decoded, Buffer.concat(pieces.map((p) => Buffer.from(p, "base64"))));
      }),
      params,
    );
  });
});

describe("timeout headers (grpc-timeout, connect-timeout-ms)", () => {
  it(`parse well-formed values to milliseconds, and refuse the rest with an error, never a throw (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99_999_999 }), fc.constantFrom("H", "M", "S", "m", "u", "n"), (n, unit) => {
        const ms = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 }[unit] * n;
        const grpc = parseGrpcTimeout(`${n}${unit}`, MAX_TIMEOUT_MS);
        if (ms <= MAX_TIMEOUT_MS) assert.ok(Math.abs((grpc.timeoutMs ?? -1) - ms) < 1, JSON.stringify(grpc));
        else assert.ok(grpc.error instanceof ConnectError || grpc.timeoutMs === MAX_TIMEOUT_MS);
      }),
      params,
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (raw) => {
        for (const parsed of [parseGrpcTimeout(raw, MAX_TIMEOUT_MS), parseConnectTimeout(raw, MAX_TIMEOUT_MS)]) {
          if (parsed.error !== undefined) assert.ok(parsed.error instanceof ConnectError);
          else if (parsed.timeoutMs !== undefined)
            assert.ok(parsed.timeoutMs >= 0 && parsed.timeoutMs <= MAX_TIMEOUT_MS);
        }
      }),
      params,
    );
  });
});

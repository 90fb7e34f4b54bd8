import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compressionNegotiate } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import fc from "fast-check";
import { chooseEncoding, DEFAULT_RESPONSE_ENCODINGS, responseEncodings } from "./response-compression.js";

// connect's own negotiation is the reference: the fast path must answer in
// the encoding connect-node would, for any list a client sends.
const router = [compressionGzip, compressionBrotli];
const reference = (accepted: string): string | undefined =>
  compressionNegotiate(router, null, accepted, "accept-encoding").response?.name;

describe("chooseEncoding", () => {
  it("chooses as connect's compressionNegotiate, for lists clients send", () => {
    const lists = [
      "gzip;q=0, br",
      "gzip;q=0.5, br",
      "br, gzip",
      "gzip, br",
      " br ,gzip",
      "identity,deflate,gzip",
      "deflate, br",
      "*",
      "gzip;q=0",
      "GZIP",
      ",,br",
    ];
    for (const list of lists)
      assert.equal(chooseEncoding(DEFAULT_RESPONSE_ENCODINGS, list)?.name, reference(list), list);
  });

  it("chooses as connect's compressionNegotiate, for generated lists (fixed seed)", () => {
    const token = fc.constantFrom("gzip", "br", "identity", "deflate", "*", "gzip;q=0", "br;q=1", " gzip", "br ", "");
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 5 }), (tokens) => {
        const list = tokens.join(",");
        assert.equal(chooseEncoding(DEFAULT_RESPONSE_ENCODINGS, list)?.name, reference(list));
      }),
      { seed: 30, numRuns: 500 },
    );
  });

  it("offers only the router's acceptCompression", () => {
    const onlyBr = responseEncodings([compressionBrotli]);
    assert.equal(onlyBr.choose("gzip, br")?.name, "br");
    assert.equal(onlyBr.choose("gzip"), undefined);
    assert.equal(responseEncodings([]).choose("gzip, br"), undefined);
  });

  it("refuses at creation a compression it cannot do", () => {
    const zstd = { ...compressionGzip, name: "zstd" };
    assert.throws(() => responseEncodings([compressionGzip, zstd]), /acceptCompression "zstd" is not supported/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LeanHeaders } from "./lean-headers.js";

// The reference is Node's own Headers: LeanHeaders must answer the same.
describe("LeanHeaders", () => {
  const incoming = {
    ":path": "/greeter.v1.Greeter/Greet",
    "content-type": "application/grpc",
    "x-multi": ["a", "b"],
    "user-agent": "test/1",
  };
  const reference = () => {
    const h = new Headers();
    h.set("content-type", "application/grpc");
    h.append("x-multi", "a");
    h.append("x-multi", "b");
    h.set("user-agent", "test/1");
    return h;
  };

  it("reads Node's request headers without pseudo-headers, repeated values joined", () => {
    const lean = new LeanHeaders(incoming);
    const ref = reference();
    assert.equal(lean.get(":path"), null, "pseudo-headers are not headers");
    for (const name of ["content-type", "Content-Type", "x-multi", "user-agent", "absent"]) {
      assert.equal(lean.get(name), ref.get(name), name);
      assert.equal(lean.has(name), ref.has(name), name);
    }
    assert.deepEqual(new Map(lean), new Map(ref));
  });

  it("writes without touching the request's object", () => {
    const lean = new LeanHeaders(incoming);
    const ref = reference();
    for (const h of [lean, ref]) {
      h.set("X-Request-Id", "1");
      h.append("x-multi", "c");
      h.delete("user-agent");
    }
    assert.deepEqual(new Map(lean), new Map(ref));
    assert.equal(incoming["user-agent"], "test/1");
    const seen: string[] = [];
    lean.forEach((value, key) => {
      seen.push(`${key}=${value}`);
    });
    assert.deepEqual(seen.sort(), [...ref].map(([k, v]) => `${k}=${v}`).sort());
  });

  it("works as a Headers for Node's own Headers constructor", () => {
    const lean = new LeanHeaders();
    lean.set("grpc-status", "0");
    assert.equal(new Headers(lean).get("grpc-status"), "0");
    assert.deepEqual([...lean.keys()], ["grpc-status"]);
    assert.deepEqual([...lean.values()], ["0"]);
  });

  it("iterates sorted by name, as Headers does, before and after a write", () => {
    // A handler listing the request headers saw them in arrival order on the
    // fast path and sorted on connect-node (found by the differential test).
    const unsorted = { "x-b": "1", "content-type": "application/grpc", ":path": "/p", accept: "*/*" };
    const lean = new LeanHeaders(unsorted);
    assert.deepEqual([...lean.keys()], [...new Headers({ "x-b": "1", "content-type": "a", accept: "*/*" }).keys()]);
    lean.append("a-first", "1");
    assert.deepEqual([...lean.keys()], ["a-first", "accept", "content-type", "x-b"]);
    const seen: string[] = [];
    lean.forEach((_value, key) => {
      seen.push(key);
    });
    assert.deepEqual(seen, ["a-first", "accept", "content-type", "x-b"]);
  });
});

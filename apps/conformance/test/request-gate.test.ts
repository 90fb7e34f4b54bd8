import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startConformanceServer } from "../src/conformance-server.js";
import { differentialGate, GATE } from "./differential/gate.js";

// What a request gate does to a call must reach it the same way on both
// paths, as connect-node's gate, interceptors and handler share one
// context: request headers the gate changes (before it touches anything
// else of the context) are what the handler sees, and a gate may answer
// with any thenable, not only a Promise. The differential test tries the
// gate's outcomes at random; these are its cases that matter most, pinned.

const UNARY = "/connectrpc.conformance.v1.ConformanceService/Unary";

async function call(port: number, gate: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${UNARY}`, {
    method: "POST",
    headers: { "content-type": "application/json", [GATE]: gate, "x-custom": "from the client" },
    body: JSON.stringify({ responseDefinition: { responseData: "AA==" } }),
  });
  return { status: res.status, text: await res.text() };
}

for (const fastPath of [true, false]) {
  describe(`a request gate's effects (FAST_PATH=${fastPath})`, () => {
    it("the handler sees the request headers as the gate left them", async () => {
      const server = await startConformanceServer({ fastPath, routerOptions: { requestGate: differentialGate } });
      try {
        const { status, text } = await call(server.port, "pass");
        assert.equal(status, 200, text);
        const seen = JSON.parse(text).payload.requestInfo.requestHeaders as { name: string; value: string[] }[];
        const names = seen.map((h) => h.name);
        assert.ok(names.includes("x-gate-added"), `the gate's header reached the handler: ${names.join(", ")}`);
        assert.ok(!names.includes("x-custom"), "the header the gate deleted stays deleted");
      } finally {
        await server.close();
      }
    });

    it("a gate that refuses through a thenable (not a Promise) refuses the call", async () => {
      const server = await startConformanceServer({ fastPath, routerOptions: { requestGate: differentialGate } });
      try {
        const { status, text } = await call(server.port, "thenable");
        assert.equal(status, 403, text);
        assert.match(text, /"code":"permission_denied","message":"the gate refuses this call"/);
      } finally {
        await server.close();
      }
    });
  });
}

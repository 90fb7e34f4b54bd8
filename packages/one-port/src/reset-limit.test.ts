import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { h2Frame, h2Get } from "../test/h2-client.js";
import { createOnePortServer, type DualRequestListener, type OnePortServer } from "./one-port-server.js";

/** Answers `/hold` with a first part and never ends it; anything else at once. */
const holdOrAnswer: DualRequestListener = (req, res) => {
  // Both kinds of response take a string; their union's write() does not type.
  if (req.url === "/hold") (res as http2.Http2ServerResponse).write("held");
  else res.end("ok");
};

/** The preface, then `count` HEADERS (GET /hold, static HPACK entries and one literal) each followed by its RST_STREAM. */
function resetFlood(count: number): Buffer {
  const headers = Buffer.from([0x82, 0x86, 0x04, 5, ...Buffer.from("/hold"), 0x01, 1, 0x78]);
  const parts = [Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), h2Frame(4, 0, 0, Buffer.alloc(0))];
  for (let i = 0; i < count; i++) {
    parts.push(h2Frame(1, 0x5, 1 + 2 * i, headers), h2Frame(3, 0, 1 + 2 * i, Buffer.from([0, 0, 0, 8])));
  }
  return Buffer.concat(parts);
}

describe("reset limit", () => {
  let op: OnePortServer;
  let port: number;
  const floods: string[] = [];
  before(async () => {
    op = createOnePortServer(holdOrAnswer, {
      resetBurst: 50,
      resetRatePerSecond: 10,
      onResetFlood: (peer) => floods.push(peer),
    });
    await new Promise<void>((resolve) => op.server.listen(0, "127.0.0.1", resolve));
    port = (op.server.address() as AddressInfo).port;
  });
  after(() => op.drain(100));

  it("lets a client cancel calls in flight within its budget, and keeps its connection", async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      for (let i = 0; i < 40; i++) {
        const stream = session.request({ ":path": "/hold" });
        stream.on("error", () => {});
        await once(stream, "response");
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await once(stream, "close");
      }
      assert.equal(await h2Get(session, "/"), "ok");
      assert.equal(session.destroyed, false);
      assert.deepEqual(floods, []);
    } finally {
      session.destroy();
    }
  });

  it("cuts a flood of HEADERS and RST_STREAM with GOAWAY ENHANCE_YOUR_CALM, and serves others", async () => {
    const socket = net.connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (d: Buffer) => received.push(d));
    socket.on("error", () => {});
    const closed = once(socket, "close");
    await once(socket, "connect");
    const peer = `127.0.0.1:${socket.localPort}`;
    const killer = setTimeout(() => socket.destroy(), 10_000);
    socket.write(resetFlood(2_000));
    await closed;
    clearTimeout(killer);
    // The GOAWAY: its last stream id, then its error code.
    const bytes = Buffer.concat(received);
    let code: number | undefined;
    for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) {
      if (bytes[at + 3] === 7) code = bytes.readUInt32BE(at + 13);
    }
    assert.equal(code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, `GOAWAY code, of ${bytes.length} bytes`);
    assert.deepEqual(floods, [peer], "told, with the client's address");

    const other = http2.connect(`http://127.0.0.1:${port}`);
    try {
      assert.equal(await h2Get(other, "/"), "ok");
    } finally {
      other.destroy();
    }
  });
});

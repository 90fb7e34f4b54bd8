import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { endWithBody } from "./end-with-body.js";

interface Answer {
  body: Buffer;
  /** How the server's socket was written to while the response went out. */
  writes: string[];
}

// A real HTTP/1.1 server and client on loopback: the body must arrive byte
// for byte, whatever the bytes are, and small bodies in one socket write.
async function answerWith(body: Uint8Array): Promise<Answer> {
  const writes: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const socket = res.socket;
      assert.ok(socket);
      const write = socket._write.bind(socket);
      const writev = socket._writev?.bind(socket);
      socket._write = (chunk, encoding, callback) => {
        writes.push("write");
        write(chunk, encoding, callback);
      };
      if (writev) {
        socket._writev = (chunks, callback) => {
          writes.push(`writev of ${chunks.length}`);
          writev(chunks, callback);
        };
      }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.byteLength) });
      endWithBody(res, body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/", agent: false });
    req.end("x");
    const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    assert.equal(res.statusCode, 200);
    return { body: Buffer.concat(chunks), writes };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe("endWithBody over HTTP/1.1", () => {
  it("sends every byte value unchanged, head and body in one write", async () => {
    const all = new Uint8Array(256).map((_, i) => i);
    // A view into a larger buffer: only the view's bytes may be sent.
    const backing = new Uint8Array(300);
    backing.set(all, 20);
    const view = backing.subarray(20, 276);
    const answer = await answerWith(view);
    assert.deepEqual(new Uint8Array(answer.body), all);
    assert.deepEqual(answer.writes, ["write"]);
  });

  it("sends a body past the one-write size as it is, byte for byte", async () => {
    const big = new Uint8Array(64 * 1024).map((_, i) => (i * 7) & 0xff);
    const answer = await answerWith(big);
    assert.deepEqual(new Uint8Array(answer.body), big);
    assert.ok(!answer.writes.includes("write"), `expected the head and the Buffer apart, got ${answer.writes}`);
  });
});

import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { h2Get } from "../test/h2-client.js";
import { createOnePortServer, type DualRequestListener, type OnePortServer } from "./one-port-server.js";

/** Answers with the HTTP version it was reached over, after an optional delay. */
const versionEcho: DualRequestListener = (req, res) => {
  const delay = Number(new URL(req.url ?? "/", "http://x").searchParams.get("delay") ?? 0);
  const timer = setTimeout(() => res.end(`HTTP/${req.httpVersion}`), delay);
  res.once("close", () => clearTimeout(timer));
};

async function listen(op: OnePortServer): Promise<number> {
  await new Promise<void>((resolve) => op.server.listen(0, "127.0.0.1", resolve));
  return (op.server.address() as AddressInfo).port;
}

function h1Get(port: number, path: string, agent?: http.Agent): Promise<{ body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ body, connection: res.headers.connection }));
      })
      .on("error", reject);
  });
}

describe("one cleartext port", () => {
  let op: OnePortServer;
  let port: number;
  before(async () => {
    op = createOnePortServer(versionEcho, { prefaceTimeoutMs: 300 });
    port = await listen(op);
  });
  after(async () => {
    await op.drain(100);
  });

  it("serves HTTP/1.1 and HTTP/2 with prior knowledge side by side", async () => {
    assert.equal((await h1Get(port, "/")).body, "HTTP/1.1");
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      assert.equal(await h2Get(session, "/"), "HTTP/2.0");
    } finally {
      session.close();
    }
  });

  it("recognises the HTTP/2 preface when it arrives a few bytes at a time", async () => {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.setNoDelay(true);
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    for (const piece of [preface.subarray(0, 3), preface.subarray(3, 11), preface.subarray(11)]) {
      socket.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // An HTTP/2 server answers the preface with a SETTINGS frame (type 4).
    const first: Buffer = await new Promise((resolve) => socket.once("data", resolve));
    socket.destroy();
    assert.equal(first[3], 0x04);
  });

  it("tells HTTP/1.1 apart after a single byte", async () => {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("G");
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write("ET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    const answer = await new Promise<string>((resolve) => {
      let got = "";
      socket.on("data", (d) => {
        got += d;
      });
      socket.on("close", () => resolve(got));
    });
    assert.match(answer, /^HTTP\/1\.1 200[\s\S]*HTTP\/1\.1$/);
  });

  it("drops a connection that says nothing within the preface timeout", async () => {
    const socket = net.connect(port, "127.0.0.1");
    const started = Date.now();
    await new Promise((resolve) => socket.once("close", resolve));
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 5_000, `closed after ${waited} ms`);
  });
});

describe("takeStream", () => {
  it("sees each HTTP/2 stream first; the listener gets the ones it leaves, and every HTTP/1.1 request", async () => {
    const offered: string[] = [];
    const op = createOnePortServer(versionEcho, {
      takeStream(stream, headers) {
        offered.push(String(headers[":path"]));
        if (headers[":path"] !== "/taken") return false;
        stream.respond({ ":status": 200 });
        stream.end("taken");
        return true;
      },
    });
    const port = await listen(op);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      assert.equal(await h2Get(session, "/taken"), "taken");
      assert.equal(await h2Get(session, "/left"), "HTTP/2.0");
      assert.equal((await h1Get(port, "/taken")).body, "HTTP/1.1");
      assert.deepEqual(offered, ["/taken", "/left"]);
      assert.equal(op.streamsTaken, 1);
    } finally {
      session.destroy();
      await op.drain(100);
    }
  });
});

describe("drain", () => {
  it("lets in-flight requests finish, closes idle connections and refuses new ones", async () => {
    const op = createOnePortServer(versionEcho);
    const port = await listen(op);
    const agent = new http.Agent({ keepAlive: true });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      await h1Get(port, "/", agent); // leaves an idle keep-alive socket
      await h2Get(session, "/"); // leaves an open HTTP/2 session
      const slowH1 = h1Get(port, "/?delay=300");
      const slowH2 = h2Get(session, "/?delay=300");
      await new Promise((resolve) => setTimeout(resolve, 50));
      const goaway = new Promise((resolve) => session.once("goaway", resolve));

      const drained = op.drain(5_000);
      assert.equal(op.draining, true);
      await goaway;
      const [h1, h2] = await Promise.all([slowH1, slowH2]);
      assert.equal(h1.body, "HTTP/1.1");
      assert.equal(h1.connection, "close");
      assert.equal(h2, "HTTP/2.0");
      await drained;
      await assert.rejects(h1Get(port, "/"), /ECONNREFUSED/);
    } finally {
      agent.destroy();
      session.destroy();
    }
  });

  it("cuts off what is still running when the grace period ends", async () => {
    const op = createOnePortServer(versionEcho);
    const port = await listen(op);
    const stuck = h1Get(port, "/?delay=60000");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await op.drain(200);
    assert.ok(Date.now() - started < 2_000);
    await assert.rejects(stuck, /socket hang up|ECONNRESET/);
  });
});

/** The status an HTTP/1.1 GET with `headers` gets, on a connection of its own. */
function h1Status(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/", headers, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

describe("the same head limits on both HTTP versions", () => {
  let op: OnePortServer;
  let port: number;
  before(async () => {
    op = createOnePortServer(versionEcho, { maxHeaderFields: 20 });
    port = await listen(op);
  });
  after(async () => {
    await op.drain(100);
  });

  const fields = (n: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-field-${i}`, "1"]));

  it("HTTP/1.1: a request with more header fields than allowed gets 431, one within the limit is served", async () => {
    assert.equal(await h1Status(port, fields(40)), 431);
    assert.equal(await h1Status(port, fields(10)), 200);
  });

  it("HTTP/2: the same request is refused, one within the limit is served", async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    try {
      const refused = await new Promise<string>((resolve) => {
        const stream = session.request({ ":path": "/", ...fields(40) });
        stream.on("response", (h) => resolve(`status ${h[":status"]}`));
        stream.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
        stream.on("close", () => resolve(`reset ${stream.rstCode}`));
        stream.end();
      });
      assert.doesNotMatch(refused, /^status 200/);
      assert.equal(await h2Get(session, "/"), "HTTP/2.0");
    } finally {
      session.destroy();
    }
  });

  it("a gRPC call with a head over 16 KiB gets RESOURCE_EXHAUSTED, not a 431 its client would read as UNKNOWN", async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    try {
      const head = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({
          ":path": "/",
          "content-type": "application/grpc",
          "x-long": "a".repeat(20_000),
        });
        stream.on("response", resolve);
        stream.on("error", reject);
        stream.end();
      });
      assert.equal(head[":status"], 200);
      assert.equal(head["grpc-status"], "8");
    } finally {
      session.destroy();
    }
  });

  it("a request head over 16 KiB is refused on both versions", async () => {
    const long = { "x-long": "a".repeat(20_000) };
    assert.equal(await h1Status(port, long), 431);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    try {
      const h2 = await new Promise<string>((resolve) => {
        const stream = session.request({ ":path": "/", ...long });
        stream.on("response", (h) => resolve(`status ${h[":status"]}`));
        stream.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
        stream.on("close", () => resolve(`reset ${stream.rstCode}`));
        stream.end();
      });
      assert.doesNotMatch(h2, /^status 200/);
    } finally {
      session.destroy();
    }
  });
});

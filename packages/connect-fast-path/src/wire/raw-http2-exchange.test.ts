import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { offerRawStream, type RawHttp2Request, type RawHttp2Response } from "./raw-http2-exchange.js";

// A bare node:http2 server whose streams are offered to `handler`; what it
// declines gets a 404.
let handler: (req: RawHttp2Request, res: RawHttp2Response) => boolean = () => false;
let neverIndexed: string[] = [];
let server: http2.Http2Server;
let url: string;
const sessions = new Set<http2.ServerHttp2Session>();

before(async () => {
  server = http2.createServer();
  server.on("session", (session) => sessions.add(session));
  server.on("stream", (stream, headers) => {
    if (offerRawStream(stream, headers, (req, res) => handler(req, res), neverIndexed)) return;
    stream.respond({ ":status": 404 }, { endStream: true });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const session of sessions) session.destroy();
  await new Promise((resolve) => server.close(resolve));
});

interface Answer {
  headers: http2.IncomingHttpHeaders;
  body: string;
  trailers: http2.IncomingHttpHeaders;
}

function request(headers: http2.OutgoingHttpHeaders, body = ""): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    const stream = session.request({ ":method": "POST", ":path": "/", ...headers });
    const answer: Answer = { headers: {}, body: "", trailers: {} };
    stream.on("response", (h) => {
      answer.headers = h;
    });
    stream.on("trailers", (t) => {
      answer.trailers = t;
    });
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => {
      answer.body += d;
    });
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve(answer);
    });
    // A GET has no body: the client ends its side at once.
    if (stream.writable) stream.end(body);
  });
}

describe("offerRawStream", () => {
  it("gives the handler the request's method, path, headers and body", async () => {
    handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.once("end", () => {
        res.writeHead(200, { "x-echo": `${req.method} ${req.url} ${req.headers["x-in"]} ${req.httpVersionMajor}` });
        res.addTrailers({ "x-status": "done" });
        res.end(Buffer.concat(chunks));
      });
      return true;
    };
    const answer = await request({ "x-in": "a" }, "hello");
    assert.equal(answer.headers[":status"], 200);
    assert.equal(answer.headers["x-echo"], "POST / a 2");
    assert.equal(answer.body, "hello");
    assert.equal(answer.trailers["x-status"], "done");
  });

  it("sends the headers it is told to as never-indexed, in the head and the trailers", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "x-request-id": "abc-1", "x-other": "same" });
      res.addTrailers({ "x-request-id": "abc-1", "grpc-status": "0" });
      res.end(new Uint8Array([1]));
      return true;
    };
    const marked = (h: http2.IncomingHttpHeaders): unknown =>
      (h as Record<symbol, unknown>)[http2.sensitiveHeaders] ?? [];
    try {
      neverIndexed = ["x-request-id"];
      const answer = await request({});
      assert.equal(answer.headers["x-request-id"], "abc-1");
      assert.deepEqual(marked(answer.headers), ["x-request-id"], "the client received it never-indexed, and only it");
      assert.deepEqual(marked(answer.trailers), ["x-request-id"]);
      neverIndexed = [];
      const plain = await request({});
      assert.deepEqual(marked(plain.headers), [], "without the option, nothing is marked");
    } finally {
      neverIndexed = [];
    }
  });

  it("ends an answer with neither body nor trailers", async () => {
    handler = (_req, res) => {
      res.writeHead(204, {}).end();
      return true;
    };
    const answer = await request({});
    assert.equal(answer.headers[":status"], 204);
    assert.equal(answer.body, "");
  });

  it("leaves GET, CONNECT-like and expect: 100-continue requests to the compatibility API", async () => {
    let offered = 0;
    handler = () => {
      offered++;
      return false;
    };
    assert.equal((await request({ ":method": "GET" })).headers[":status"], 404);
    assert.equal((await request({ expect: "100-continue" })).headers[":status"], 404);
    assert.equal(offered, 0);
    assert.equal((await request({})).headers[":status"], 404);
    assert.equal(offered, 1);
  });

  it("counts nothing as sent when Node refuses the head, so an error answer can follow", async () => {
    let refused: unknown;
    handler = (_req, res) => {
      try {
        res.writeHead(200, { connection: "close" }).end(Buffer.from("x"));
      } catch (e) {
        refused = e;
      }
      assert.equal(res.headersSent, false);
      res.writeHead(500, {}).end(Buffer.from("error"));
      return true;
    };
    const answer = await request({});
    assert.ok(refused instanceof Error);
    assert.equal(answer.headers[":status"], 500);
    assert.equal(answer.body, "error");
  });

  it("refuses a bad trailer when it is added, not later in Node's events", async () => {
    let refused: unknown;
    handler = (_req, res) => {
      assert.throws(() => res.addTrailers({ ":status": "1" }));
      try {
        res.addTrailers({ "bad name": "x" });
      } catch (e) {
        refused = e;
      }
      res.writeHead(200, {}).end(Buffer.from("ok"));
      return true;
    };
    const answer = await request({});
    assert.ok(refused instanceof Error);
    assert.equal(answer.body, "ok");
  });

  it("survives a client that resets the stream with an error: the call sees 'close'", { timeout: 5_000 }, async () => {
    let closed!: () => void;
    const sawClose = new Promise<void>((resolve) => {
      closed = resolve;
    });
    handler = (_req, res) => {
      res.once("close", closed);
      return true; // and never answers
    };
    const session = http2.connect(url);
    try {
      const stream = session.request({ ":method": "POST", ":path": "/" });
      stream.on("error", () => {});
      stream.write("partial");
      await new Promise((resolve) => setTimeout(resolve, 50));
      // A reset with an error code makes Node emit 'error' on the server's stream.
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      await sawClose;
      // Node reports the reset to the stream as an 'error' event around its
      // 'close': give an unhandled one the time to surface inside this test.
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      session.destroy();
    }
  });
});

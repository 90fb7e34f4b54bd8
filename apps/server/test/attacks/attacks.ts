import { readFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";

// Clients that try to make a server hold memory or time, for the tests that
// attack a real server process from outside (and `pnpm fuzz attacks`, which
// runs them bigger). Every loop is bounded, every socket is closed by the
// returned `stop()`, and traffic goes to the URL given (loopback in tests).

/** A GreetStreamRequest: name "Ada", `count` greetings, no pause between them. */
export function greetStreamRequest(count: number): Buffer {
  const varint: number[] = [];
  for (let n = count; ; n >>>= 7) {
    if (n < 0x80) {
      varint.push(n);
      break;
    }
    varint.push((n & 0x7f) | 0x80);
  }
  return Buffer.from([0x0a, 3, 0x41, 0x64, 0x61, 0x10, ...varint]);
}

/** A gRPC envelope around `message`; flag 1 marks it gzip-compressed. */
export function envelope(message: Buffer, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** A gRPC call's request head; `gzip` sends it to connect-node's path. */
export function grpcHeaders(path: string, gzip: boolean): http2.OutgoingHttpHeaders {
  const headers: http2.OutgoingHttpHeaders = {
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
  };
  if (gzip) headers["grpc-encoding"] = "gzip";
  return headers;
}

/** An attack under way: how it went, and how to end it. */
export interface Attack {
  /** Connections and streams the server closed or refused. */
  readonly refused: number;
  stop(): void;
}

/**
 * Opens `connections` HTTP/2 connections with `streams` GreetStreams each
 * (10,000 greetings, no pause) and never reads an answer. With `gzip` the
 * requests are compressed, which sends them to connect-node's path.
 */
export function stalledStreams(url: string, connections: number, streams: number, gzip: boolean): Attack {
  const sessions: http2.ClientHttp2Session[] = [];
  let refused = 0;
  const message = greetStreamRequest(10_000);
  // A gzip member of the message: the server decompresses it itself.
  const body = gzip ? envelope(gzipSync(message), true) : envelope(message);
  for (let c = 0; c < connections; c++) {
    const session = http2.connect(url);
    session.on("error", () => {});
    session.on("goaway", () => refused++);
    sessions.push(session);
    for (let i = 0; i < streams; i++) {
      const stream = session.request(grpcHeaders("/greeter.v1.Greeter/GreetStream", gzip));
      stream.on("error", () => refused++);
      stream.pause();
      stream.end(body);
    }
  }
  return {
    get refused() {
      return refused;
    },
    stop: () => {
      for (const session of sessions) session.destroy();
    },
  };
}

/**
 * Opens `connections` HTTP/2 connections with `streams` unary Greets each,
 * every one declaring a message of `messageBytes` and sending all of it but
 * the last byte, or only its first `sentBytes`. (Node resets a
 * connection's streams with ENHANCE_YOUR_CALM once it holds more than its
 * `maxSessionMemory`, 10 MB, of what nobody reads.)
 */
export function heldMessages(
  url: string,
  connections: number,
  streams: number,
  messageBytes: number,
  gzip: boolean,
  sentBytes = messageBytes - 1,
): Attack {
  const sessions: http2.ClientHttp2Session[] = [];
  let refused = 0;
  const head = Buffer.alloc(5);
  head[0] = gzip ? 1 : 0;
  head.writeUInt32BE(messageBytes, 1);
  const almost = Buffer.alloc(sentBytes, 7);
  for (let c = 0; c < connections; c++) {
    const session = http2.connect(url, { settings: { initialWindowSize: 2 ** 31 - 1 } });
    session.on("error", () => {});
    sessions.push(session);
    for (let i = 0; i < streams; i++) {
      const stream = session.request(grpcHeaders("/greeter.v1.Greeter/Greet", gzip));
      stream.on("error", () => {});
      stream.on("response", (h) => {
        if (h["grpc-status"] !== undefined) refused++;
      });
      stream.on("trailers", () => refused++);
      stream.resume();
      stream.write(head);
      stream.write(almost);
    }
  }
  return {
    get refused() {
      return refused;
    },
    stop: () => {
      for (const session of sessions) session.destroy();
    },
  };
}

/**
 * Sends `calls` gRPC-Web text-mode GreetStreams (10,000 greetings each)
 * over HTTP/1.1, one socket each, and never reads the answers.
 */
export function unreadTextStreams(url: string, calls: number): Attack {
  const { hostname, port } = new URL(url);
  const sockets: net.Socket[] = [];
  const body = envelope(greetStreamRequest(10_000)).toString("base64");
  for (let i = 0; i < calls; i++) {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.on("error", () => {});
    socket.pause();
    socket.write(
      "POST /greeter.v1.Greeter/GreetStream HTTP/1.1\r\n" +
        `host: ${hostname}:${port}\r\ncontent-type: application/grpc-web-text\r\n` +
        `x-grpc-web: 1\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    sockets.push(socket);
  }
  return {
    refused: 0,
    stop: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * One Greet over a fresh HTTP/2 connection: its grpc-status, or "timeout"
 * after `deadlineMs`, or the connection's error code.
 */
export function probeGreet(url: string, deadlineMs: number): Promise<string> {
  return new Promise((resolve) => {
    const session = http2.connect(url);
    const done = (result: string): void => {
      clearTimeout(timer);
      session.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done("timeout"), deadlineMs);
    session.on("error", (e: NodeJS.ErrnoException) => done(e.code ?? "error"));
    const stream = session.request({
      ":method": "POST",
      ":path": "/greeter.v1.Greeter/Greet",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.on("response", (h) => {
      if (h["grpc-status"] !== undefined) done(String(h["grpc-status"]));
    });
    stream.on("trailers", (t) => done(String(t["grpc-status"])));
    stream.on("error", (e: NodeJS.ErrnoException) => done(e.code ?? "error"));
    stream.resume();
    stream.end(envelope(Buffer.from([0x0a, 3, 0x41, 0x64, 0x61])));
  });
}

/** A process's resident set size in bytes, read from outside it (/proc). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

/**
 * Watches a process's RSS and probes it with a Greet every `everyMs` for
 * `forMs`: the peak RSS, and each probe's answer.
 */
export async function watch(url: string, pid: number, forMs: number, everyMs: number, deadlineMs: number) {
  let peakRss = rssOf(pid);
  const answers: string[] = [];
  for (const end = Date.now() + forMs; Date.now() < end; ) {
    const probe = probeGreet(url, deadlineMs);
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssOf(pid));
    }, 50);
    answers.push(await probe);
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssOf(pid));
    await sleep(everyMs);
  }
  return { peakRss, answers };
}

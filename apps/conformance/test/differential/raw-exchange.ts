import http from "node:http";
import http2 from "node:http2";
import type { Wire } from "./calls.js";

// One call sent as bytes with node:http or node:http2 and nothing checked
// or fixed up on the way, so that whatever differs between two servers'
// answers shows.

/** An answer as it arrived. Header names in lower case, repeated ones joined with ", ". */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: Buffer;
  /** How the exchange failed, when it did (a reset, a closed socket). */
  failure?: string;
}

/** Past this, an answer counts as none (the call is recorded as having timed out). */
const ANSWER_TIMEOUT_MS = 10_000;

function flatten(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(":")) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

function h1Exchange(port: number, wire: Wire): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let answer: RawAnswer = { status: 0, headers: {}, trailers: {}, body: Buffer.alloc(0) };
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: wire.method,
        path: wire.path,
        headers: Object.fromEntries(wire.headers),
        agent: false,
        timeout: ANSWER_TIMEOUT_MS,
      },
      (res) => {
        answer = { ...answer, status: res.statusCode ?? 0, headers: flatten(res.headers) };
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ ...answer, trailers: flatten(res.trailers), body: Buffer.concat(chunks) }));
        res.on("error", (error) => resolve({ ...answer, body: Buffer.concat(chunks), failure: error.message }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer in time")));
    req.on("error", (error) => resolve({ ...answer, body: Buffer.concat(chunks), failure: error.message }));
    req.end(wire.method === "GET" ? undefined : wire.body);
  });
}

function h2Exchange(port: number, wire: Wire): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const chunks: Buffer[] = [];
    let answer: RawAnswer = { status: 0, headers: {}, trailers: {}, body: Buffer.alloc(0) };
    let finished = false;
    // A stream's error is followed by its close: the first one tells.
    const done = (failure?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      session.close();
      resolve({ ...answer, body: Buffer.concat(chunks), ...(failure === undefined ? {} : { failure }) });
    };
    const timer = setTimeout(() => {
      session.destroy();
      done("no answer in time");
    }, ANSWER_TIMEOUT_MS);
    session.on("error", (error) => done(error.message));
    const stream = session.request(
      { ":method": wire.method, ":path": wire.path, ...Object.fromEntries(wire.headers) },
      { endStream: wire.method === "GET" },
    );
    stream.on("response", (headers) => {
      answer = { ...answer, status: Number(headers[":status"]), headers: flatten(headers) };
    });
    stream.on("trailers", (trailers) => {
      answer = { ...answer, trailers: flatten(trailers) };
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", (error) => done(error.message));
    stream.on("close", () => done(stream.rstCode ? `reset with code ${stream.rstCode}` : undefined));
    if (wire.method !== "GET") stream.end(wire.body);
  });
}

/** Sends a call to a server on 127.0.0.1 over the call's HTTP version, over a new connection. */
export function exchange(port: number, wire: Wire): Promise<RawAnswer> {
  return wire.http === "2" ? h2Exchange(port, wire) : h1Exchange(port, wire);
}

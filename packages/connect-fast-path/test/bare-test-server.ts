import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo, Server as NetServer } from "node:net";
import type { FastRequest, FastResponse } from "../src/wire/exchange.js";
import { offerRawStream, type RawHttp2Request, type RawHttp2Response } from "../src/wire/raw-http2-exchange.js";

/** How a test server hands calls to a fast path: as Node's compatibility API does, or on the stream itself. */
export type Http2Api = "compatibility API" | "raw stream";

/** A bare node:http or node:http2 server in front of one fast path, for its tests. */
export interface BareServer {
  readonly url: string;
  /** Calls the fast path left: each got a 404. */
  readonly fallbacks: number;
  stop(): Promise<void>;
}

/**
 * Starts a node:http2 server on a free loopback port where `handle` (a
 * fast path) sees every call and whatever it does not take gets a 404, so
 * every call a test sees answered went through the fast path.
 */
type RawHandler = (req: RawHttp2Request, res: RawHttp2Response) => boolean;
type FastHandler = (req: FastRequest, res: FastResponse) => boolean;

export function startBareHttp2Server(api: "raw stream", handle: RawHandler): Promise<BareServer>;
export function startBareHttp2Server(api: Http2Api, handle: FastHandler): Promise<BareServer>;
export async function startBareHttp2Server(api: Http2Api, handle: RawHandler | FastHandler): Promise<BareServer> {
  let fallbacks = 0;
  const sessions = new Set<http2.ServerHttp2Session>();
  let server: http2.Http2Server;
  if (api === "compatibility API") {
    server = http2.createServer((req, res) => {
      if ((handle as FastHandler)(req, res)) return;
      fallbacks++;
      res.writeHead(404).end();
    });
  } else {
    server = http2.createServer();
    server.on("stream", (stream, headers) => {
      if (offerRawStream(stream, headers, handle)) return;
      fallbacks++;
      stream.respond({ ":status": 404 }, { endStream: true });
    });
  }
  server.on("session", (session) => sessions.add(session));
  // Clients keep their connections open; close() would wait for them.
  return listenOnLoopback(
    server,
    () => fallbacks,
    () => {
      for (const session of sessions) session.destroy();
    },
  );
}

/** The same in front of a fast path over HTTP/1.1 (node:http). */
export async function startBareHttp1Server(handle: FastHandler): Promise<BareServer> {
  let fallbacks = 0;
  const server = http.createServer((req, res) => {
    if (handle(req, res)) return;
    fallbacks++;
    res.writeHead(404).end();
  });
  return listenOnLoopback(
    server,
    () => fallbacks,
    () => server.closeAllConnections(),
  );
}

async function listenOnLoopback(
  server: NetServer,
  fallbacks: () => number,
  dropConnections: () => void,
): Promise<BareServer> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get fallbacks() {
      return fallbacks();
    },
    async stop() {
      dropConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

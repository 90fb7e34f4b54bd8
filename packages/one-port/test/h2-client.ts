import type http2 from "node:http2";

// What the one-port tests send over HTTP/2, in one place.

/** GETs `path` on an open session and resolves to the body as text. */
export function h2Get(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": path });
    let body = "";
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => {
      body += d;
    });
    stream.on("end", () => resolve(body));
    stream.on("error", reject);
  });
}

/** An HTTP/2 frame: 24-bit length, type, flags, stream id, payload. */
export function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import * as grpc from "@grpc/grpc-js";
import { type Certificate, makeCertificate } from "./certificate.js";
import { loadGreeterDefinition } from "./interop/grpc-js-client.js";
import { startTestServer, type TestServer } from "./testing.js";

describe("TLS on the one port (ALPN h2 + http/1.1)", () => {
  let certificate: Certificate;
  let cert: string;
  let server: TestServer;

  before(async () => {
    certificate = await makeCertificate();
    cert = certificate.cert;
    server = await startTestServer({ tlsCert: cert, tlsKey: certificate.key });
  });
  after(async () => {
    await server?.close();
    await certificate?.remove();
  });

  it("offers h2 and http/1.1 by ALPN", async () => {
    for (const [offered, expected] of [
      [["h2", "http/1.1"], "h2"],
      [["http/1.1"], "http/1.1"],
    ] as const) {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca: cert, ALPNProtocols: [...offered] });
      await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
      assert.equal(socket.alpnProtocol, expected);
      socket.destroy();
    }
  });

  it("serves gRPC, gRPC-Web and Connect over TLS", async () => {
    const nodeOptions = { ca: cert };
    for (const transport of [
      createGrpcTransport({ baseUrl: server.url, nodeOptions }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions }),
    ]) {
      const res = await createClient(Greeter, transport).greet({ name: "Ada" });
      assert.equal(res.greeting, "Hello, Ada!");
    }
  });

  it("serves grpc-js over TLS", async () => {
    const pkg = grpc.loadPackageDefinition(loadGreeterDefinition({})) as unknown as {
      greeter: { v1: { Greeter: new (address: string, creds: grpc.ChannelCredentials) => grpc.Client } };
    };
    const client = new pkg.greeter.v1.Greeter(
      `localhost:${server.port}`,
      grpc.credentials.createSsl(Buffer.from(cert)),
    ) as grpc.Client & { greet: (req: object, cb: (err: Error | null, res: { greeting: string }) => void) => void };
    try {
      const res = await new Promise<{ greeting: string }>((resolve, reject) =>
        client.greet({ name: "Grace" }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      assert.equal(res.greeting, "Hello, Grace!");
    } finally {
      client.close();
    }
  });
});

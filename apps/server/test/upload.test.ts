import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createChunkChecksumInterceptor } from "@greeter/interceptors";
import { type AudioChunk, AudioChunkSchema, Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { startTestServer, type TestServer } from "./testing.js";
import { startServerProcess } from "./testing-process.js";

/** `count` chunks of `size` bytes of deterministic noise, made as they are sent, and the SHA-256 of them all. */
function audio(count: number, size: number) {
  const hash = createHash("sha256");
  async function* chunks(): AsyncIterable<AudioChunk> {
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(size);
      for (let j = 0; j < size; j += 4096) data[j] = (i * 31 + j) & 0xff;
      hash.update(data);
      yield create(AudioChunkSchema, { data });
    }
  }
  return { chunks: chunks(), sha256: () => hash.digest("hex") };
}

/** Damages one chunk's data after its checksum was computed: corruption on the way. */
const corruptChunk =
  (index: number): Interceptor =>
  (next) =>
  (req) => {
    if (!req.stream) return next(req);
    async function* damaged() {
      let i = 0;
      for await (const message of req.message as AsyncIterable<AudioChunk>) {
        if (i++ === index) message.data = Uint8Array.from(message.data, (b, k) => (k === 7 ? b ^ 0xff : b));
        yield message;
      }
    }
    return next({ ...req, message: damaged() });
  };

const TRANSPORTS: Record<string, (baseUrl: string, interceptors: Interceptor[]) => Transport> = {
  gRPC: (baseUrl, interceptors) => createGrpcTransport({ baseUrl, interceptors }),
  "Connect (HTTP/2)": (baseUrl, interceptors) => createConnectTransport({ baseUrl, httpVersion: "2", interceptors }),
};

describe("UploadVoiceGreeting with chunk checksums", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  for (const [name, transport] of Object.entries(TRANSPORTS)) {
    it(`${name}: stamped chunks arrive, and the answer has their size and SHA-256`, async () => {
      const client = createClient(Greeter, transport(server.url, [createChunkChecksumInterceptor()]));
      const upload = audio(10, 10_000);
      const res = await client.uploadVoiceGreeting(upload.chunks);
      assert.deepEqual(
        { size: res.sizeBytes, sha256: res.sha256, chunks: res.chunks },
        { size: 100_000n, sha256: upload.sha256(), chunks: 10 },
      );
    });

    it(`${name}: a chunk damaged in flight fails the call with DATA_LOSS naming it`, async () => {
      const client = createClient(Greeter, transport(server.url, [createChunkChecksumInterceptor(), corruptChunk(3)]));
      const error = await client.uploadVoiceGreeting(audio(10, 10_000).chunks).then(
        () => assert.fail("a damaged chunk must fail the upload"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(error.code, Code.DataLoss);
      assert.match(error.rawMessage, /^chunk 3: CRC32C mismatch/);
    });
  }

  it("refuses chunks sent without checksums, at the first one", async () => {
    const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    const error = await client.uploadVoiceGreeting(audio(2, 100).chunks).then(
      () => assert.fail("unstamped chunks must fail"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(error.code, Code.DataLoss);
    assert.match(error.rawMessage, /^chunk 0: /);
  });
});

describe("uploads to the server process", () => {
  it("get the right SHA-256, and a larger upload does not raise the server's peak memory", async () => {
    const { child, url } = await startServerProcess({});
    const peakRssMb = () =>
      Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]) / 1024;
    const client = createClient(
      Greeter,
      createGrpcTransport({ baseUrl: url, interceptors: [createChunkChecksumInterceptor()] }),
    );
    const send = async (chunks: number) => {
      const upload = audio(chunks, 256 * 1024);
      const res = await client.uploadVoiceGreeting(upload.chunks);
      assert.equal(res.sizeBytes, BigInt(chunks * 256 * 1024));
      assert.equal(res.sha256, upload.sha256());
    };
    // The first upload sets the high-water mark of a streamed upload (the
    // heap's slack before the collector runs, which differs between Node
    // versions); a server that held the upload would then need 75 MB more
    // for the second one (the largest the service takes).
    await send(100); // 25 MiB
    const before = peakRssMb();
    await send(400); // 100 MiB
    const grew = peakRssMb() - before;
    assert.ok(grew < 40, `the server's peak RSS grew by ${grew.toFixed(1)} MB from a 25 MiB to a 100 MiB upload`);
    child.kill("SIGTERM");
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { startTestServer, type TestServer } from "./testing.js";

/** Every way a client can talk to the one port, each over a real socket. */
const PROTOCOLS: Record<string, (baseUrl: string) => Transport> = {
  "gRPC (h2c)": (baseUrl) => createGrpcTransport({ baseUrl }),
  "gRPC-Web (HTTP/1.1)": (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
  "gRPC-Web (h2c)": (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
  "Connect JSON (HTTP/1.1)": (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  "Connect binary (HTTP/1.1)": (baseUrl) =>
    createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
  "Connect JSON (h2c)": (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2" }),
  "Connect binary (h2c)": (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
  "Connect GET (HTTP/1.1)": (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true }),
};

/** Protocols that carry a request stream and a response stream at once. */
const BIDI = new Set(["gRPC (h2c)", "Connect JSON (h2c)", "Connect binary (h2c)"]);

async function* names(...list: string[]) {
  for (const name of list) yield { name };
}

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

for (const [protocol, transportFor] of Object.entries(PROTOCOLS)) {
  describe(`Greeter over ${protocol}`, () => {
    const client = () => createClient(Greeter, transportFor(server.url));

    it("Greet answers Hello, <name>!", async () => {
      const res = await client().greet({ name: "Ada" });
      assert.equal(res.greeting, "Hello, Ada!");
      assert.equal(res.language, "en");
    });

    it("Greet trims the name and counts characters, not bytes", async () => {
      assert.equal((await client().greet({ name: "  Grace  " })).greeting, "Hello, Grace!");
      assert.equal((await client().greet({ name: "x".repeat(100) })).greeting, `Hello, ${"x".repeat(100)}!`);
      const hundredEmoji = "🙂".repeat(100);
      assert.equal((await client().greet({ name: hundredEmoji })).greeting, `Hello, ${hundredEmoji}!`);
    });

    for (const [name, message] of [
      ["", "name: must not be empty [name.not_blank]"],
      [" \t ", "name: must not be empty [name.not_blank]"],
      ["x".repeat(101), "name: must be at most 100 characters [string.max_len]"],
      // The limit is on what was sent, spaces included.
      [` ${"x".repeat(100)}`, "name: must be at most 100 characters [string.max_len]"],
    ] as const) {
      it(`Greet rejects ${JSON.stringify(name.slice(0, 8))}… with INVALID_ARGUMENT`, async () => {
        await assert.rejects(client().greet({ name }), (e: unknown) => {
          const err = ConnectError.from(e);
          assert.equal(err.code, Code.InvalidArgument);
          assert.equal(err.rawMessage, message);
          return true;
        });
      });
    }

    it("GreetStream sends count greetings in turn", async () => {
      const got: string[] = [];
      for await (const res of client().greetStream({ name: "Ada", count: 4, intervalMs: 0 })) got.push(res.greeting);
      assert.deepEqual(got, ["Hello, Ada!", "Hola, Ada!", "Bonjour, Ada!", "Hallo, Ada!"]);
    });

    it("GreetStream rejects a count out of bounds", async () => {
      const consume = async (count: number) => {
        for await (const _ of client().greetStream({ name: "Ada", count })) {
          // drain
        }
      };
      await assert.rejects(
        consume(0),
        /count: must be greater than or equal to 1 and less than or equal to 10000 \[uint32.gte_lte\]/,
      );
      await assert.rejects(
        consume(10_001),
        /count: must be greater than or equal to 1 and less than or equal to 10000 \[uint32.gte_lte\]/,
      );
    });

    it("GreetStream ends with DEADLINE_EXCEEDED when the deadline passes", async () => {
      const got: string[] = [];
      const started = Date.now();
      await assert.rejects(
        (async () => {
          const stream = client().greetStream({ name: "Ada", count: 100, intervalMs: 100 }, { timeoutMs: 350 });
          for await (const res of stream) got.push(res.greeting);
        })(),
        (e: unknown) => ConnectError.from(e).code === Code.DeadlineExceeded,
      );
      assert.ok(got.length >= 1 && got.length <= 5, `got ${got.length} greetings before the deadline`);
      assert.ok(Date.now() - started < 3_000, "the stream outlived its deadline");
    });

    if (protocol.startsWith("Connect GET")) return; // GET carries no request stream

    it("GreetEveryone greets everybody sent", async () => {
      const res = await client().greetEveryone(names("Ada", "Grace", "Linus"));
      assert.equal(res.greeting, "Hello, Ada, Grace and Linus!");
      assert.equal(res.count, 3);
      assert.equal((await client().greetEveryone(names("Ada"))).greeting, "Hello, Ada!");
    });

    it("GreetEveryone rejects an empty stream and names which name is bad", async () => {
      await assert.rejects(client().greetEveryone(names()), /send at least one name/);
      await assert.rejects(client().greetEveryone(names("Ada", " ")), /name: must not be empty \[name.not_blank\]/);
    });

    if (!BIDI.has(protocol)) return;

    it("Chat answers every message as it arrives", async () => {
      // The second message is only sent after the first answer came back:
      // proof that answers do not wait for the end of the request stream.
      let answered: () => void = () => {};
      const firstAnswer = new Promise<void>((resolve) => {
        answered = resolve;
      });
      async function* messages() {
        yield { name: "Ada", message: "hi" };
        await firstAnswer;
        yield { name: "Ada", message: "still there?" };
      }
      const replies: string[] = [];
      for await (const res of client().chat(messages(), { timeoutMs: 5_000 })) {
        replies.push(res.reply);
        answered();
      }
      assert.deepEqual(replies, ['Hello, Ada! You said: "hi".', 'Hello, Ada! You said: "still there?".']);
    });
  });
}

describe("Connect GET", () => {
  it("answers a plain browser-cacheable GET", async () => {
    const message = encodeURIComponent(JSON.stringify({ name: "Ada" }));
    const res = await fetch(`${server.url}/greeter.v1.Greeter/Greet?encoding=json&message=${message}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { greeting: "Hello, Ada!", language: "en" });
  });

  it("is refused for a method with side effects", async () => {
    const res = await fetch(`${server.url}/greeter.v1.Greeter/GreetStream?encoding=json&message=%7B%7D`);
    assert.equal(res.status, 405);
  });
});

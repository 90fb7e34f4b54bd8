import * as grpc from "@grpc/grpc-js";
import { GreeterStub } from "./interop/grpc-js-client.js";

// A client with many calls whose deadline passes while the server has them:
// `node deadline-storm-client.ts HOST:PORT CALLS DEADLINE_MS CONCURRENCY`
// makes CALLS Greet calls over two channels (two connections), CONCURRENCY
// at a time, and prints how many ended with each status as JSON. A process
// of its own, as a real client is: in the server's process it could not
// send its resets while the server works.

const [target = "", calls = "10000", deadlineMs = "1", concurrency = "500"] = process.argv.slice(2);
// Channels with different options do not share a connection.
const channels = [0, 1].map(
  (i) => new GreeterStub(target, grpc.credentials.createInsecure(), { "grpc.primary_user_agent": `storm-${i}` }),
);
const greet = (stub: grpc.Client, deadline: number): Promise<string> =>
  new Promise((resolve) => {
    (stub as unknown as Record<string, (...args: unknown[]) => void>).greet?.(
      { name: "Ada" },
      new grpc.Metadata(),
      { deadline: Date.now() + deadline },
      (err: grpc.ServiceError | null) => {
        const name = err ? (grpc.status[err.code] ?? String(err.code)) : "OK";
        resolve(err && err.code !== grpc.status.DEADLINE_EXCEEDED ? `${name}: ${err.details}` : name);
      },
    );
  });

// Both connections up before the storm, so its calls reach the server.
await Promise.all(channels.map((c) => greet(c, 10_000)));
const ended: Record<string, number> = {};
let started = 0;
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (started < Number(calls)) {
      const channel = channels[started++ % 2] as grpc.Client;
      const code = await greet(channel, Number(deadlineMs));
      ended[code] = (ended[code] ?? 0) + 1;
    }
  }),
);
for (const c of channels) c.close();
process.stdout.write(`${JSON.stringify(ended)}\n`);

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { type CallOptions, type Client, ConnectError, createClient } from "@connectrpc/connect";
import {
  type AudioChunk,
  AudioChunkSchema,
  ChatRequestSchema,
  Greeter,
  GreetingRequestSchema,
} from "@greeter/proto/greeter/v1/greeter_pb.js";
import { Registry } from "prom-client";
import { type CallContext, describeRpcError } from "./error-message.js";
import { writeMetrics } from "./metrics-file.js";
import { startTracing } from "./tracing.js";
import { createTransport, PROTOCOLS, type Protocol } from "./transport.js";

export const USAGE = `Usage: greeter [command] [options]

Commands:
  (none)                     ask "What is your name?" and greet you
  greet --name NAME          one greeting (unary)
  stream --name NAME         a series of greetings (server streaming)
         [--count N] [--interval MS]
  everyone NAME [NAME…]      one greeting for everybody (client streaming)
  chat --name NAME           send each line you type, print each answer (bidirectional)
  upload FILE                upload a voice greeting in checksummed chunks (client streaming)

Options:
  --url URL                  server address (default: $GREETER_URL or http://localhost:50051)
  --protocol P               grpc | grpc-web | connect (default: grpc)
  --timeout MS               deadline for the call (default: 10000 for greet and everyone, none for streams)
  --token TOKEN              bearer token for servers with AUTH_REQUIRED=true (default: $GREETER_TOKEN;
                             \`pnpm mint-token\` mints one for a dev server)
  --metrics-file PATH        write the client's Prometheus metrics (grpc_client_*) there when done, for
                             node_exporter's textfile collector (default: $GREETER_METRICS_FILE)

Environment:
  OTEL_EXPORTER_OTLP_ENDPOINT  send a CLIENT span per call over OTLP/HTTP (e.g. http://localhost:4318)
  --help                     this text`;

export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** A mistake in the command line: exit code 2 and the usage text. */
class UsageError extends Error {}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_URL = "http://localhost:50051";

/** Runs the CLI; resolves to the process exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const call: CallContext = { url: io.env.GREETER_URL || DEFAULT_URL, hasToken: Boolean(io.env.GREETER_TOKEN) };
  try {
    return await dispatch(argv, io, call);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`greeter: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.stderr.write(`greeter: ${describeRpcError(ConnectError.from(e), call)}\n`);
    return 1;
  }
}

async function dispatch(argv: string[], io: Io, call: CallContext): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  call.url = values.url ?? call.url;
  call.hasToken = Boolean(values.token ?? io.env.GREETER_TOKEN);
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command = "ask", ...rest] = positionals;
  const protocol = parseProtocol(values.protocol ?? "grpc");
  const timeoutMs = values.timeout === undefined ? undefined : parsePositive(values.timeout, "--timeout");
  const metricsFile = values["metrics-file"] || io.env.GREETER_METRICS_FILE || undefined;
  const metrics = metricsFile === undefined ? undefined : new Registry();
  const tracing = startTracing(io.env.OTEL_EXPORTER_OTLP_ENDPOINT);
  try {
    return await runCommand(command, rest, values, io, { protocol, timeoutMs, metrics, url: call.url });
  } finally {
    await tracing?.shutdown();
    if (metricsFile !== undefined && metrics !== undefined) await writeMetrics(metricsFile, metrics);
  }
}

interface CommandOptions {
  protocol: Protocol;
  timeoutMs: number | undefined;
  metrics: Registry | undefined;
  url: string;
}

async function runCommand(
  command: string,
  rest: string[],
  values: CommandLine["values"],
  io: Io,
  { protocol, timeoutMs, metrics, url }: CommandOptions,
): Promise<number> {
  const client = (needsHttp2: boolean): Client<typeof Greeter> =>
    createClient(
      Greeter,
      createTransport({
        baseUrl: url,
        protocol,
        needsHttp2,
        token: values.token ?? io.env.GREETER_TOKEN,
        metrics,
      }),
    );
  const unaryOptions: CallOptions = { timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS };
  const streamOptions: CallOptions = timeoutMs === undefined ? {} : { timeoutMs };
  const print = (line: string): void => {
    io.stdout.write(`${line}\n`);
  };

  switch (command) {
    case "ask": {
      const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: false });
      io.stdout.write("What is your name? ");
      const name = await rl.question("").finally(() => rl.close());
      const res = await client(false).greet({ name }, unaryOptions);
      print(res.greeting);
      return 0;
    }
    case "greet": {
      const res = await client(false).greet({ name: required(values.name, "--name") }, unaryOptions);
      print(res.greeting);
      return 0;
    }
    case "stream": {
      const request = {
        name: required(values.name, "--name"),
        count: values.count === undefined ? 3 : parsePositive(values.count, "--count"),
        intervalMs: values.interval === undefined ? 500 : parsePositive(values.interval, "--interval", true),
      };
      for await (const res of client(false).greetStream(request, streamOptions)) print(res.greeting);
      return 0;
    }
    case "everyone": {
      if (rest.length === 0) throw new UsageError("everyone needs at least one name");
      const requests = rest.map((name) => create(GreetingRequestSchema, { name }));
      const res = await client(false).greetEveryone(toAsync(requests), unaryOptions);
      print(res.greeting);
      return 0;
    }
    case "upload": {
      const [file] = rest;
      if (file === undefined) throw new UsageError("upload needs a file");
      if (protocol === "grpc-web") {
        throw new UsageError("upload streams from the client, which gRPC-Web lacks: use --protocol grpc or connect");
      }
      const res = await client(true).uploadVoiceGreeting(chunksOf(file), streamOptions);
      print(`Uploaded ${res.sizeBytes} bytes in ${res.chunks} chunks, SHA-256 ${res.sha256}`);
      return 0;
    }
    case "chat": {
      if (protocol === "grpc-web") {
        throw new UsageError(
          "chat needs bidirectional streaming, which gRPC-Web lacks: use --protocol grpc or connect",
        );
      }
      const name = required(values.name, "--name");
      // Take the iterator now: readline drops lines that arrive before
      // anyone iterates, and the call only starts pulling after connecting.
      const lines = createInterface({ input: io.stdin, terminal: false })[Symbol.asyncIterator]();
      const requests = (async function* () {
        for (let line = await lines.next(); !line.done; line = await lines.next()) {
          yield create(ChatRequestSchema, { name, message: line.value });
        }
      })();
      for await (const res of client(true).chat(requests, streamOptions)) print(res.reply);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

type CommandLine = ReturnType<typeof parseCommandLine>;

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: "string" },
        protocol: { type: "string" },
        timeout: { type: "string" },
        token: { type: "string" },
        "metrics-file": { type: "string" },
        name: { type: "string" },
        count: { type: "string" },
        interval: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function parseProtocol(raw: string): Protocol {
  const protocol = PROTOCOLS.find((p) => p === raw);
  if (!protocol) throw new UsageError(`--protocol must be one of ${PROTOCOLS.join(", ")}, got "${raw}"`);
  return protocol;
}

function parsePositive(raw: string, flag: string, zeroAllowed = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (zeroAllowed ? 0 : 1)) {
    throw new UsageError(`${flag} must be a whole number${zeroAllowed ? "" : " above 0"}, got "${raw}"`);
  }
  return n;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}

async function* toAsync<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** A file as AudioChunks of 64 KiB, read as they are sent. */
async function* chunksOf(file: string): AsyncIterable<AudioChunk> {
  for await (const data of createReadStream(file, { highWaterMark: 64 * 1024 })) {
    yield create(AudioChunkSchema, { data: data as Buffer });
  }
}

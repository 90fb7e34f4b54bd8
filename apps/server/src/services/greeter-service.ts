import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  ChatResponseSchema,
  GreetEveryoneResponseSchema,
  type Greeter,
  GreetingResponseSchema,
  UploadVoiceGreetingResponseSchema,
} from "@greeter/proto/greeter/v1/greeter_pb.js";
import { LIMITS } from "./greeting-rules.js";
import { greetingFor, greetingForAll } from "./greetings.js";
import { untilAborted } from "./until-aborted.js";

/**
 * The Greeter service. It knows nothing of protocols: the same
 * implementation answers gRPC, gRPC-Web and Connect callers. Requests reach
 * it checked against the proto's protovalidate rules (the server's
 * validation interceptor); only rules about a whole stream live here.
 */
export function createGreeterService(): ServiceImpl<typeof Greeter> {
  return {
    greet(req) {
      return create(GreetingResponseSchema, greetingFor(req.name.trim()));
    },

    async *greetStream(req, ctx) {
      const name = req.name.trim();
      const { count, intervalMs } = req;
      for (let i = 0; i < count; i++) {
        if (i > 0 && intervalMs > 0) await pause(intervalMs, ctx.signal);
        ctx.signal.throwIfAborted();
        yield create(GreetingResponseSchema, greetingFor(name, i));
      }
    },

    async greetEveryone(requests, ctx) {
      const names: string[] = [];
      for await (const req of untilAborted(requests, ctx.signal)) {
        if (names.length === LIMITS.everyoneMaxNames) {
          throw new ConnectError(`at most ${LIMITS.everyoneMaxNames} names per call`, Code.InvalidArgument);
        }
        names.push(req.name.trim());
      }
      if (names.length === 0) {
        throw new ConnectError("send at least one name", Code.InvalidArgument);
      }
      return create(GreetEveryoneResponseSchema, { greeting: greetingForAll(names), count: names.length });
    },

    async *chat(requests, ctx) {
      for await (const req of untilAborted(requests, ctx.signal)) {
        yield create(ChatResponseSchema, {
          reply: `Hello, ${req.name.trim()}! You said: ${JSON.stringify(req.message)}.`,
        });
      }
    },

    async uploadVoiceGreeting(chunks, ctx) {
      // Chunk by chunk: memory stays at one chunk, whatever the upload's size.
      const hash = createHash("sha256");
      let size = 0;
      let count = 0;
      for await (const chunk of untilAborted(chunks, ctx.signal)) {
        size += chunk.data.byteLength;
        if (size > LIMITS.uploadMaxBytes) {
          throw new ConnectError(
            `a voice greeting may be at most ${LIMITS.uploadMaxBytes} bytes; this one is longer`,
            Code.ResourceExhausted,
          );
        }
        hash.update(chunk.data);
        count++;
      }
      if (count === 0) throw new ConnectError("send at least one chunk", Code.InvalidArgument);
      return create(UploadVoiceGreetingResponseSchema, {
        sizeBytes: BigInt(size),
        sha256: hash.digest("hex"),
        chunks: count,
      });
    },
  };
}

/**
 * Waits, but ends as soon as the call does (client cancel, deadline, server
 * shutdown), failing with the call's own reason: a timer's AbortError would
 * reach the client as INTERNAL.
 */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (e) {
    throw signal.aborted ? ConnectError.from(signal.reason) : e;
  }
}

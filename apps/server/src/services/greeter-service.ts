import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  ChatResponseSchema,
  GreetEveryoneResponseSchema,
  type Greeter,
  GreetingResponseSchema,
} from "@greeter/proto/greeter/v1/greeter_pb.js";
import { checkMaxChars, checkName, checkRange, LIMITS } from "./greeting-rules.js";
import { greetingFor, greetingForAll } from "./greetings.js";

/**
 * The Greeter service. It knows nothing of protocols: the same
 * implementation answers gRPC, gRPC-Web and Connect callers.
 */
export function createGreeterService(): ServiceImpl<typeof Greeter> {
  return {
    greet(req) {
      return create(GreetingResponseSchema, greetingFor(checkName(req.name)));
    },

    async *greetStream(req, ctx) {
      const name = checkName(req.name);
      const count = checkRange(req.count, 1, LIMITS.streamMaxCount, "count");
      const intervalMs = checkRange(req.intervalMs, 0, LIMITS.streamMaxIntervalMs, "interval_ms");
      for (let i = 0; i < count; i++) {
        if (i > 0 && intervalMs > 0) {
          // Rejects as soon as the client cancels or the deadline passes.
          await sleep(intervalMs, undefined, { signal: ctx.signal });
        }
        ctx.signal.throwIfAborted();
        yield create(GreetingResponseSchema, greetingFor(name, i));
      }
    },

    async greetEveryone(requests) {
      const names: string[] = [];
      for await (const req of requests) {
        if (names.length === LIMITS.everyoneMaxNames) {
          throw new ConnectError(`at most ${LIMITS.everyoneMaxNames} names per call`, Code.InvalidArgument);
        }
        names.push(checkName(req.name, `name #${names.length + 1}`));
      }
      if (names.length === 0) {
        throw new ConnectError("send at least one name", Code.InvalidArgument);
      }
      return create(GreetEveryoneResponseSchema, { greeting: greetingForAll(names), count: names.length });
    },

    async *chat(requests) {
      for await (const req of requests) {
        const name = checkName(req.name);
        const message = checkMaxChars(req.message, LIMITS.chatMaxChars, "message");
        yield create(ChatResponseSchema, { reply: `Hello, ${name}! You said: ${JSON.stringify(message)}.` });
      }
    },
  };
}

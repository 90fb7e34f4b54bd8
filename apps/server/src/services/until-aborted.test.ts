import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { untilAborted } from "./until-aborted.js";

/** A request stream whose client sends `sent` and then nothing more, keeping it open; says when it is closed. */
function openStream(sent: number[]) {
  const state = { closed: false };
  const messages: AsyncIterable<number> = {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        next: () =>
          i < sent.length
            ? Promise.resolve({ done: false, value: sent[i++] as number })
            : new Promise<IteratorResult<number>>(() => {}),
        return: async () => {
          state.closed = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { messages, state };
}

describe("untilAborted", () => {
  it("passes the messages, then fails with the call's reason when its signal fires, and closes the source", async () => {
    const { messages, state } = openStream([1, 2]);
    const controller = new AbortController();
    const got: number[] = [];
    const reading = (async () => {
      for await (const m of untilAborted(messages, controller.signal)) got.push(m);
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
    await assert.rejects(reading, (e: unknown) => e instanceof ConnectError && e.code === Code.DeadlineExceeded);
    assert.deepEqual(got, [1, 2]);
    assert.equal(state.closed, true);
  });

  it("ends as the source does, and stops listening to the signal", async () => {
    const controller = new AbortController();
    const source = (async function* () {
      yield 1;
      yield 2;
    })();
    const got: number[] = [];
    for await (const m of untilAborted(source, controller.signal)) got.push(m);
    assert.deepEqual(got, [1, 2]);
    // An abort after the end changes nothing (no unhandled rejection either).
    controller.abort(new ConnectError("late", Code.Canceled));
  });

  it("fails at once on a signal already aborted", async () => {
    const { messages } = openStream([1]);
    const signal = AbortSignal.abort(new ConnectError("the client cancelled the call", Code.Canceled));
    const it = untilAborted(messages, signal)[Symbol.asyncIterator]();
    await assert.rejects(it.next(), (e: unknown) => e instanceof ConnectError && e.code === Code.Canceled);
  });
});

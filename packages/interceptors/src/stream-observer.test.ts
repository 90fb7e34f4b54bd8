import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { observeStream } from "./stream-observer.js";

const asError = (e: unknown): ConnectError =>
  e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal);

/** A source of `count` numbers that fails after them if `failWith` is given, and records whether it was closed. */
function source(count: number, failWith?: unknown) {
  const state = { closed: false };
  async function* numbers() {
    try {
      for (let i = 0; i < count; i++) yield i;
      if (failWith !== undefined) throw failWith;
    } finally {
      state.closed = true;
    }
  }
  return { messages: numbers(), state };
}

function observed(count: number, failWith?: unknown) {
  const { messages, state } = source(count, failWith);
  const seen: number[] = [];
  const ends: (ConnectError | undefined)[] = [];
  const stream = observeStream(
    messages,
    asError,
    (m) => seen.push(m),
    (e) => ends.push(e),
  );
  return { stream, state, seen, ends };
}

describe("observeStream", () => {
  it("passes every message on and reports a complete stream once", async () => {
    const { stream, seen, ends } = observed(3);
    const passed: number[] = [];
    for await (const m of stream) passed.push(m);
    assert.deepEqual(passed, [0, 1, 2]);
    assert.deepEqual(seen, [0, 1, 2]);
    assert.deepEqual(ends, [undefined]);
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
    assert.equal(ends.length, 1);
  });

  it("reports and throws a failure as the other side sees it", async () => {
    const { stream, seen, ends } = observed(2, new Error("secret"));
    const passed: number[] = [];
    await assert.rejects(
      async () => {
        for await (const m of stream) passed.push(m);
      },
      (e: unknown) => e instanceof ConnectError && e.code === Code.Internal && e.rawMessage === "internal error",
    );
    assert.deepEqual(passed, [0, 1]);
    assert.deepEqual(seen, [0, 1]);
    assert.deepEqual(
      ends.map((e) => e?.code),
      [Code.Internal],
    );
  });

  it("reports a stream its consumer leaves as CANCELED and closes the source", async () => {
    const { stream, state, ends } = observed(10);
    for await (const m of stream) if (m === 1) break;
    assert.equal(state.closed, true);
    assert.deepEqual(
      ends.map((e) => e?.code),
      [Code.Canceled],
    );
  });

  it("reports what the consumer throws into it, and closes the source", async () => {
    const { stream, state, ends } = observed(10);
    await stream.next();
    const reason = new ConnectError("too big", Code.ResourceExhausted);
    await assert.rejects(stream.throw?.(reason) ?? Promise.resolve(), (e: unknown) => e === reason);
    assert.equal(state.closed, true);
    assert.deepEqual(ends, [reason]);
  });

  it("ends the stream when counting a message fails", async () => {
    const { messages, state } = source(5);
    const ends: (ConnectError | undefined)[] = [];
    const stream = observeStream(
      messages,
      asError,
      (m) => {
        if (m === 2) throw new Error("counter broke");
      },
      (e) => ends.push(e),
    );
    const passed: number[] = [];
    await assert.rejects(async () => {
      for await (const m of stream) passed.push(m);
    });
    assert.deepEqual(passed, [0, 1]);
    assert.equal(state.closed, true);
    assert.deepEqual(
      ends.map((e) => e?.code),
      [Code.Internal],
    );
  });
});

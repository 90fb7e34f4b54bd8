import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Abortable, InflightCalls } from "./context.js";

/** A call that, like the real one, leaves the list when it is aborted. */
class Call implements Abortable {
  previousInflight: Abortable | undefined;
  nextInflight: Abortable | undefined;
  aborted: unknown[] = [];

  constructor(
    readonly name: string,
    private readonly list: InflightCalls,
  ) {}

  abort(reason: unknown): void {
    this.aborted.push(reason);
    this.list.delete(this);
  }
}

describe("InflightCalls", () => {
  it("aborts exactly the calls still in flight at shutdown, once each", () => {
    const shutdown = new AbortController();
    const list = new InflightCalls(shutdown.signal);
    const calls = ["a", "b", "c", "d", "e"].map((name) => new Call(name, list));
    for (const call of calls) list.add(call);
    const [a, b, c, d, e] = calls as [Call, Call, Call, Call, Call];
    list.delete(c); // the middle
    list.delete(e); // the newest, first in the list
    list.delete(a); // the oldest, last in the list
    list.delete(a); // twice: no effect
    list.delete(new Call("stranger", list)); // never added: no effect
    shutdown.abort("bye");
    assert.deepEqual(
      calls.map((call) => [call.name, call.aborted]),
      [
        ["a", []],
        ["b", ["bye"]],
        ["c", []],
        ["d", ["bye"]],
        ["e", []],
      ],
    );
    assert.equal(b.nextInflight, undefined);
    assert.equal(d.previousInflight, undefined);
  });

  it("aborts a call added after shutdown at once", () => {
    const shutdown = new AbortController();
    const list = new InflightCalls(shutdown.signal);
    shutdown.abort("gone");
    const late = new Call("late", list);
    list.add(late);
    assert.deepEqual(late.aborted, ["gone"]);
  });
});

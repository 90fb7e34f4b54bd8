import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createContextValues, type UnaryRequest } from "@connectrpc/connect";
import { type CallInfo, callInfoKey } from "./call-info.js";
import { callOutcome } from "./call-outcome.js";
import { publicError } from "./public-error.js";

/** The parts of a request callOutcome reads. */
function request(signal: AbortSignal | (() => never), info?: CallInfo): UnaryRequest {
  const contextValues = createContextValues().set(callInfoKey, info);
  const req = { contextValues } as unknown as UnaryRequest;
  Object.defineProperty(req, "signal", { get: typeof signal === "function" ? signal : () => signal });
  return req;
}

const cancelled = new ConnectError("the client cancelled the call", Code.Canceled);
const live = new AbortController().signal;
const prematureClose = Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });

describe("callOutcome", () => {
  it("leaves a call nobody ended from outside as it ended", () => {
    assert.equal(callOutcome(request(live), undefined), undefined);
    const own = new ConnectError("bad", Code.InvalidArgument);
    assert.equal(callOutcome(request(live), own), own);
  });

  it("records the reason of a call ended from outside, over OK or a crash it caused", () => {
    const signal = AbortSignal.abort(cancelled);
    assert.equal(callOutcome(request(signal), undefined), cancelled);
    assert.equal(callOutcome(request(signal), publicError(prematureClose)), cancelled);
    const deadline = new ConnectError("the operation timed out", Code.DeadlineExceeded);
    assert.equal(callOutcome(request(AbortSignal.abort(deadline)), undefined), deadline);
  });

  it("keeps a code the handler chose itself", () => {
    const own = new ConnectError("bad", Code.InvalidArgument);
    assert.equal(callOutcome(request(AbortSignal.abort(cancelled)), own), own);
  });

  it("says CANCELLED for Node's signs of a client gone, and for connect-node's ABORTED", () => {
    assert.equal(callOutcome(request(live), publicError(prematureClose))?.code, Code.Canceled);
    const hungUp = new ConnectError("aborted", Code.Aborted);
    assert.equal(callOutcome(request(AbortSignal.abort(hungUp)), undefined)?.code, Code.Canceled);
    // A crash of the server's own stays INTERNAL.
    assert.equal(callOutcome(request(live), publicError(new TypeError("oops")))?.code, Code.Internal);
  });

  it("asks the adapter first, and never makes a signal the adapter says it need not", () => {
    const noSignal = () => assert.fail("the signal was read");
    const info: CallInfo = { abortReason: () => undefined, abortReasonComplete: true };
    assert.equal(callOutcome(request(noSignal, info), undefined), undefined);
    const told: CallInfo = { abortReason: () => cancelled };
    assert.equal(callOutcome(request(noSignal, told), undefined), cancelled);
  });
});

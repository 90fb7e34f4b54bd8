import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BenchCase } from "../cases.js";
import { answerProfileQuestions } from "./profile-runs.js";

/** A row whose server cannot be profiled (not a node process). */
const unprofilable = (id: string): BenchCase => ({
  id,
  label: id,
  server: { command: ["/bin/false"] },
  request: { path: "/", headers: {} },
  http1: false,
  verify: async () => {},
});

describe("answerProfileQuestions", () => {
  it("answers a question it cannot profile with the reason, and skips questions whose rows are absent", async () => {
    let loads = 0;
    const answers = await answerProfileQuestions(
      [unprofilable("greeter-grpc"), unprofilable("greeter-grpc-bare")],
      async () => {
        loads++;
        throw new Error("no load expected");
      },
      1,
      () => 100,
    );
    assert.equal(answers.length, 1, "only the chain's question has both rows");
    const [answer] = answers;
    assert.ok(answer && "error" in answer);
    assert.match(answer.error, /only node servers can be profiled/);
    assert.equal(answer.question.subject, "greeter-grpc");
    assert.equal(loads, 0);
  });
});

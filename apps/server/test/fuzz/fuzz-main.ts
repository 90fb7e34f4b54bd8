// `pnpm fuzz [examples]`: Schemathesis against a Greeter server on a free
// loopback port, with many more examples than the test suite's run (1000
// per operation and phase unless given), a new seed each time (printed, so
// a failure reproduces), the fast path on.
// `pnpm fuzz attacks`: the memory attacks, larger (attacks-main.ts).
// `pnpm fuzz differential [--runs N] [--seed S]`: the fast path against
// connect-node on generated calls, larger (apps/conformance/test/differential/).
import { startTestServer } from "../testing.js";
import { runSchemathesis } from "./schemathesis.js";

if (process.argv[2] === "attacks") {
  await import("./attacks-main.js");
  process.exit();
}
if (process.argv[2] === "differential") {
  // The ConformanceService it runs against lives in the conformance app.
  await import("../../../conformance/test/differential/differential-main.js");
  process.exit();
}

const examples = Number(process.argv[2] ?? 1000);
const seed = Math.floor(Math.random() * 2 ** 31);
const server = await startTestServer();
try {
  const result = await runSchemathesis(server.url, examples, seed);
  process.stdout.write(result.output);
  process.stdout.write(`\nseed ${seed}: ${result.generated} test cases, ${result.passed} passed\n`);
  process.exitCode = result.code;
} finally {
  await server.close();
}

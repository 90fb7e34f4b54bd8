// `pnpm conformance`: the official Connect conformance suite against our
// stack, with the fast path on and then off; prints the runner's totals and
// fails if any case failed.
import { runConformance } from "./runner.js";

let failed = 0;
for (const fastPath of [true, false]) {
  const result = await runConformance(fastPath);
  if (result.failed > 0) process.stdout.write(result.output);
  process.stdout.write(
    `FAST_PATH=${fastPath}: ${result.total} cases, ${result.passed} passed, ${result.failed} failed\n`,
  );
  failed += result.failed;
}
process.exitCode = failed === 0 ? 0 : 1;

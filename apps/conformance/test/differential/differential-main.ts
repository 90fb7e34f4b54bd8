// `pnpm fuzz differential [--runs N] [--seed S]`: the differential test
// (apps/conformance/test/differential.test.ts) with many more generated
// calls (20,000 unless given) and a new seed each time, printed so that a
// failure reproduces. Exits 1 on the first unexplained difference, shrunk.
import { parseArgs } from "node:util";
import { assertSameAnswers, startServerPair } from "./differential.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "differential"),
  options: { runs: { type: "string", default: "20000" }, seed: { type: "string" } },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const pair = await startServerPair();
try {
  await assertSameAnswers(pair, runs, seed);
  process.stdout.write(`differential: ${runs} calls answered alike, seed ${seed}\n`);
} catch (error) {
  process.stdout.write(`${error instanceof Error ? error.message : String(error)}\n\ndifferential: seed ${seed}\n`);
  process.exitCode = 1;
} finally {
  await pair.close();
}

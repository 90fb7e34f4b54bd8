// `pnpm fuzz attacks`: the memory attacks of apps/server/test/attacks, larger
// than the test suite runs them, each against a fresh server process with
// the Kubernetes pod's memory settings. Prints what each did to the server
// (peak RSS, how other clients were answered) and exits 1 if the server
// died, or another client's call went unanswered.
import { setTimeout as sleep } from "node:timers/promises";
import { type Attack, heldMessages, stalledStreams, unreadTextStreams, watch } from "../attacks/attacks.js";
import { listeningUrl, spawnServer } from "../server-process.js";

const MiB = 1024 * 1024;
const ENV = { NODE_OPTIONS: "--max-old-space-size=512", MEMORY_LIMIT_BYTES: String(200 * MiB) };

const cases: { name: string; start: (url: string) => Attack }[] = [
  {
    name: "1,000 unread GreetStreams, connect-node's path (10 × 100)",
    start: (url) => stalledStreams(url, 10, 100, true),
  },
  { name: "1,000 unread GreetStreams, the fast path (10 × 100)", start: (url) => stalledStreams(url, 10, 100, false) },
  {
    name: "500 unfinished 4 MiB messages, the fast path (10 × 50)",
    start: (url) => heldMessages(url, 10, 50, 4 * MiB - 100, false),
  },
  {
    name: "500 unfinished 4 MiB messages, connect-node's path (10 × 50)",
    start: (url) => heldMessages(url, 10, 50, 4 * MiB - 100, true),
  },
  { name: "100 unread gRPC-Web text streams", start: (url) => unreadTextStreams(url, 100) },
];

let failed = false;
for (const { name, start } of cases) {
  const child = spawnServer(ENV);
  try {
    const { url } = await listeningUrl(child);
    const attack = start(url);
    const { peakRss, answers } = await watch(url, child.pid ?? 0, 15_000, 250, 5_000);
    attack.stop();
    await sleep(500);
    const alive = child.exitCode === null;
    const counts = new Map<string, number>();
    for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
    const unanswered = answers.filter((a) => a !== "0" && a !== "14").length;
    if (!alive || unanswered > 0) failed = true;
    console.log(
      `${alive && unanswered === 0 ? "ok  " : "FAIL"} ${name}: peak RSS ${Math.round(peakRss / MiB)} MiB, ` +
        `other clients' calls ${JSON.stringify(Object.fromEntries(counts))} (0 = served, 14 = shed), ` +
        `server ${alive ? "up" : `died (${child.exitCode})`}`,
    );
  } finally {
    child.kill("SIGKILL");
  }
}
process.exitCode = failed ? 1 : 0;

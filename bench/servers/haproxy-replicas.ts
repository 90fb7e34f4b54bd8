// Three Greeter replicas (production build, one worker each) behind HAProxy,
// as `pnpm replicas` runs them. Every process inherits the bench's CPU pin,
// so the row compares the same CPU budget with and without the balancer.
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, startHaproxy, startReplicas } from "@greeter/server/balancer";

const MAIN = new URL("../../apps/server/dist/main.js", import.meta.url).pathname;

const { children, addresses } = await startReplicas({ count: 3, command: [process.execPath, MAIN] });
const frontPort = await freePort();
// Checks every 5 s: on one saturated core, 500 ms checks time out and
// take healthy replicas out, which is not what this row measures.
children.push(await startHaproxy({ frontPort, replicas: addresses, checkIntervalMs: 5_000 }, { output: "ignore" }));
for (let i = 0; i < 100; i++) {
  const up = await fetch(`http://127.0.0.1:${frontPort}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (up) break;
  await sleep(100);
}
console.log(`PORT ${frontPort}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill("SIGKILL");
    process.exit(0);
  });
}

// Three Greeter replicas (production build, one worker each) behind HAProxy,
// as `pnpm cluster` runs them. Every process inherits the bench's CPU pin,
// so the row compares the same CPU budget with and without the balancer.
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { startHaproxy } from "@greeter/server/balancer";
import { freePort } from "@greeter/server/testing";

const REPLICAS = 3;
const MAIN = new URL("../../apps/server/dist/main.js", import.meta.url).pathname;
const children: ChildProcess[] = [];

async function healthy(url: string): Promise<boolean> {
  return fetch(`${url}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
}

const addresses: string[] = [];
for (let i = 0; i < REPLICAS; i++) {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: String(port), WORKERS: "1" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  addresses.push(`127.0.0.1:${port}`);
}
for (const address of addresses) {
  for (let i = 0; i < 200 && !(await healthy(`http://${address}`)); i++) await sleep(100);
}
const frontPort = await freePort();
// Checks every 5 s: on one saturated core, 500 ms checks time out and
// take healthy replicas out, which is not what this row measures.
children.push(await startHaproxy({ frontPort, replicas: addresses, checkIntervalMs: 5_000 }, { output: "ignore" }));
for (let i = 0; i < 100 && !(await healthy(`http://127.0.0.1:${frontPort}`)); i++) await sleep(100);
console.log(`PORT ${frontPort}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill("SIGKILL");
    process.exit(0);
  });
}

// `pnpm cluster`: 3 Greeter replicas behind HAProxy on one front port
// (CLUSTER_PORT, default 8080), for gRPC, gRPC-Web and Connect alike.
// Ctrl-C stops them all.
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort } from "../testing.js";
import { startHaproxy } from "./haproxy.js";

const REPLICAS = 3;
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const frontPort = Number(process.env.CLUSTER_PORT ?? 8080);
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
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: String(port), WORKERS: "1" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  addresses.push(`127.0.0.1:${port}`);
}
for (const address of addresses) {
  for (let i = 0; i < 100 && !(await healthy(`http://${address}`)); i++) await sleep(100);
}
children.push(await startHaproxy({ frontAddress: "0.0.0.0", frontPort, replicas: addresses }));
console.log(
  `Greeter cluster: ${REPLICAS} replicas (${addresses.join(", ")}) behind HAProxy on http://localhost:${frontPort}`,
);
console.log(`try: pnpm cli greet --name Ada --url http://localhost:${frontPort}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill("SIGTERM");
    process.exit(0);
  });
}

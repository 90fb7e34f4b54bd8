// `pnpm replicas`: 3 Greeter replicas behind HAProxy on one front port
// (CLUSTER_PORT, default 8080), for gRPC, gRPC-Web and Connect alike.
// Ctrl-C stops them all.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { replicaDrainDelayMs, startHaproxy } from "./haproxy.js";
import { startReplicas } from "./replicas.js";

const REPLICAS = 3;
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
// The page too, when built (`pnpm replicas` builds it), so browsers go through the balancer.
const WEB_DIST = fileURLToPath(new URL("../../../web/dist", import.meta.url));
const webRoot = process.env.WEB_ROOT ?? (existsSync(`${WEB_DIST}/index.html`) ? WEB_DIST : undefined);
const frontPort = Number(process.env.CLUSTER_PORT ?? 8080);

const { children, addresses, adminAddresses } = await startReplicas({
  count: REPLICAS,
  command: [process.execPath, "--conditions=source", "--import", "tsx", MAIN],
  env: {
    // Each replica serves on after SIGTERM until HAProxy's check has taken it out.
    DRAIN_DELAY_MS: process.env.DRAIN_DELAY_MS ?? String(replicaDrainDelayMs()),
    ...(webRoot ? { WEB_ROOT: webRoot } : {}),
  },
});
children.push(await startHaproxy({ frontAddress: "0.0.0.0", frontPort, replicas: addresses }));
console.log(
  `Greeter cluster: ${REPLICAS} replicas (${addresses.join(", ")}) behind HAProxy on http://localhost:${frontPort}`,
);
console.log(`try: pnpm exec greeter greet --name Ada --url http://localhost:${frontPort}`);
console.log(`metrics, replica by replica: ${adminAddresses.map((a) => `http://${a}/metrics`).join(" ")}`);
if (webRoot) console.log(`page: http://localhost:${frontPort}/  docs: http://localhost:${frontPort}/docs`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill("SIGTERM");
    process.exit(0);
  });
}

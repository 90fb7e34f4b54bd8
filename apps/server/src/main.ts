import cluster from "node:cluster";
import { KeyProviderError } from "@greeter/interceptors/server";
import { pino } from "pino";
import { ConfigError, describeSettings, loadConfig } from "./config.js";
import { buildServer, type GreeterServer } from "./server.js";
import { onShutdownSignals } from "./shutdown-signals.js";
import { reportFatalStartup, runPrimary, workerCount } from "./workers/workers.js";

if (process.argv.includes("--help")) {
  console.log("Usage: greeter-server [--flag value]…  (every flag also reads from its environment variable)\n");
  for (const s of describeSettings()) console.log(`  --${s.flag.padEnd(20)} ${s.env.padEnd(18)} ${s.help}`);
  process.exit(0);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(`greeter-server: bad configuration: ${e.message}`);
  process.exit(2);
}

if (cluster.isPrimary && workerCount(config) > 1) {
  await runPrimary(config, pino({ level: config.logLevel, base: { pid: process.pid, role: "primary" } }));
} else {
  await serve();
}

async function serve(): Promise<void> {
  let server: GreeterServer;
  let url: string;
  try {
    server = await buildServer(config, { clusterWorker: cluster.isWorker });
    url = await server.listen();
  } catch (e) {
    if (e instanceof KeyProviderError && !cluster.isWorker) {
      console.error(`greeter-server: cannot start without the identity provider's keys: ${e.message}`);
      process.exit(1);
    }
    // Every worker would fail the same way: the primary must stop, not restart it.
    if (!cluster.isWorker) throw e;
    console.error(e);
    reportFatalStartup(e);
    return;
  }
  const local = url.replace(/\/\/(0\.0\.0\.0|\[::\])/, "//localhost");
  server.app.log.info(`Greeter listening on ${url}: gRPC, gRPC-Web and Connect on one port`);
  server.app.log.info(
    `try: buf curl --protocol grpc --http2-prior-knowledge -d '{"name":"Ada"}' ${local}/greeter.v1.Greeter/Greet`,
  );
  if (config.webRoot) server.app.log.info(`web app: ${local}/`);

  let stopping = false;
  const drain = (why: string): void => {
    if (stopping) return;
    stopping = true;
    const delay = config.drainDelayMs > 0 ? `; serving ${config.drainDelayMs} ms more, then draining` : "; draining";
    server.app.log.info(`${why}: NOT_SERVING${delay} (up to ${config.shutdownGraceMs} ms)`);
    server.close().then(
      () => {
        server.app.log.info("drained: exiting");
        process.exit(0);
      },
      (e: unknown) => {
        server.app.log.error(e, "shutdown failed");
        process.exit(1);
      },
    );
  };
  if (cluster.isWorker) {
    // A worker drains once, however many SIGTERMs reach it: a group signal
    // comes from the kernel and again from the primary, and "stop now" is
    // the primary's to say (it kills the workers). Ctrl-C reaches the whole
    // group too; the primary turns it into the one SIGTERM per worker.
    process.on("SIGTERM", () => drain("SIGTERM"));
    process.on("SIGINT", () => {});
    // The primary is gone (even SIGKILLed): no one will restart or stop us.
    process.on("disconnect", () => drain("primary gone"));
  } else {
    onShutdownSignals({
      drain,
      now: (signal) => {
        server.app.log.warn(`${signal} again: exiting now`);
        process.exit(1);
      },
    });
  }
}

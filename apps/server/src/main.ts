import cluster from "node:cluster";
import { pino } from "pino";
import { runPrimary, workerCount } from "./cluster.js";
import { ConfigError, describeSettings, loadConfig } from "./config.js";
import { buildServer } from "./server.js";

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
  runPrimary(config, pino({ level: config.logLevel, base: { pid: process.pid, role: "primary" } }));
} else {
  await serve();
}

async function serve(): Promise<void> {
  const server = await buildServer(config, { clusterWorker: cluster.isWorker });
  const url = await server.listen();
  const local = url.replace(/\/\/(0\.0\.0\.0|\[::\])/, "//localhost");
  server.app.log.info(`Greeter listening on ${url}: gRPC, gRPC-Web and Connect on one port`);
  server.app.log.info(
    `try: buf curl --protocol grpc --http2-prior-knowledge -d '{"name":"Ada"}' ${local}/greeter.v1.Greeter/Greet`,
  );
  if (config.webRoot) server.app.log.info(`web app: ${local}/`);

  let stopping = false;
  const drain = (why: string): void => {
    if (stopping) {
      // A second Ctrl-C means "now".
      process.exit(1);
    }
    stopping = true;
    server.app.log.info(`${why}: draining (up to ${config.shutdownGraceMs} ms)`);
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        server.app.log.error(e, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => drain("SIGTERM"));
  if (cluster.isWorker) {
    // Ctrl-C reaches the whole process group; the primary turns it into one
    // SIGTERM per worker, so a worker's own SIGINT is not a second signal.
    process.on("SIGINT", () => {});
    // The primary is gone (even SIGKILLed): no one will restart or stop us.
    process.on("disconnect", () => {
      if (!stopping) drain("primary gone");
    });
  } else {
    process.on("SIGINT", () => drain("SIGINT"));
  }
}

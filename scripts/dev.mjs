// `pnpm dev`: the Greeter server (restarts on change) and the Vite dev
// server together, with prefixed logs. Ctrl-C stops both.
import concurrently from "concurrently";
import { SERVER_DIR, serverCommand } from "./dev-server.mjs";

const port = process.env.PORT ?? "50051";
const webPort = process.env.WEB_PORT ?? "5173";
console.log(`
  Greeter dev stack
    web page   http://localhost:${webPort}/             (Vite, hot reload)
    API        http://localhost:${port}/   gRPC, gRPC-Web and Connect on one port
    try        pnpm exec greeter greet --name Ada
`);

// The tools run directly, not through `pnpm run`, so that Ctrl-C reaches
// them as it is and nothing in between reports it as a failure.
const { result, commands } = concurrently(
  [
    {
      name: "server",
      cwd: SERVER_DIR,
      // Restarted on a change to the project's sources, never node_modules (see dev-server.mjs).
      command: serverCommand(),
      // One process: node --watch restarts it on every change, which a cluster would only slow down.
      env: { LOG_FORMAT: "pretty", WORKERS: process.env.WORKERS ?? "1" },
      prefixColor: "blue",
    },
    // WEB_PORT: the page's port (5173, which CORS_ORIGINS allows by default); 0 picks a free one.
    { name: "web", cwd: "apps/web", command: `node_modules/.bin/vite --port ${webPort}`, prefixColor: "magenta" },
  ],
  { prefix: "name" },
);

// Ctrl-C reaches every process of the group at once, and each stops in its
// own time: the server drains its calls first. So one tool ending stops the
// other only when nobody pressed Ctrl-C (it crashed, or was stopped alone);
// otherwise killing the other would cut the server's drain short.
let interrupted = false;
process.once("SIGINT", () => {
  interrupted = true;
});
for (const command of commands) {
  command.close.subscribe(() => {
    if (interrupted) return;
    for (const other of commands) if (other !== command) other.kill();
  });
}
result.then(
  () => process.exit(0),
  () => process.exit(interrupted ? 0 : 1),
);

// `pnpm dev`: the Greeter server (restarts on change) and the Vite dev
// server together, with prefixed logs. Ctrl-C stops both.
import concurrently from "concurrently";

const port = process.env.PORT ?? "50051";
console.log(`
  Greeter dev stack
    web page   http://localhost:5173/             (Vite, hot reload)
    API        http://localhost:${port}/   gRPC, gRPC-Web and Connect on one port
    try        pnpm cli greet --name Ada
`);

// The tools run directly, not through `pnpm run`, so that Ctrl-C reaches
// them as it is and nothing in between reports it as a failure.
const { result } = concurrently(
  [
    {
      name: "server",
      cwd: "apps/server",
      command: "../../node_modules/.bin/tsx watch --conditions=source --clear-screen=false src/main.ts",
      // One process: tsx watch restarts it on every change, which a cluster would only slow down.
      env: { LOG_FORMAT: "pretty", WORKERS: process.env.WORKERS ?? "1" },
      prefixColor: "blue",
    },
    { name: "web", cwd: "apps/web", command: "node_modules/.bin/vite", prefixColor: "magenta" },
  ],
  { prefix: "name", killOthersOn: ["failure", "success"] },
);

let interrupted = false;
process.once("SIGINT", () => {
  interrupted = true;
});
result.then(
  () => process.exit(0),
  () => process.exit(interrupted ? 0 : 1),
);

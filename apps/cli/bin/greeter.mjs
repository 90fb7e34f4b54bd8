#!/usr/bin/env node
// `pnpm exec greeter …`: the CLI from its TypeScript sources, as `pnpm dev`
// runs the server, with nothing of pnpm's around its output. The sources
// need two flags at Node's start-up (the workspace's `source` condition and
// tsx), hence one child process; its exit code is this one's.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const child = spawn(
  process.execPath,
  ["--conditions=source", "--import", import.meta.resolve("tsx"), main, ...process.argv.slice(2)],
  { stdio: "inherit" },
);
// Ctrl-C reaches the child from the terminal itself (chat ends on it); this
// process waits for the child's own exit instead of dying first.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));

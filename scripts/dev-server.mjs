// How `pnpm dev` runs the Greeter server: under `node --watch`, restarted
// only when the project's own sources change.
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The server's folder, where its command runs. */
export const SERVER_DIR = join(ROOT, "apps/server");

/**
 * The folders whose changes restart the server, relative to SERVER_DIR: its
 * `src`, and the `src` of each workspace package (the server runs their
 * TypeScript under the "source" condition) plus the compiled contract.
 * Plain `node --watch` follows every imported file instead, node_modules
 * included, so an install in another checkout sharing pnpm's store (its
 * files are hard links) restarted the server; `--watch-path` turns that off.
 */
export function serverWatchPaths() {
  const packages = join(ROOT, "packages");
  const folders = [join(SERVER_DIR, "src"), join(packages, "proto/descriptors")];
  for (const name of readdirSync(packages).sort()) {
    if (existsSync(join(packages, name, "src"))) folders.push(join(packages, name, "src"));
  }
  return folders.map((folder) => relative(SERVER_DIR, folder));
}

/**
 * The server's command line. node --watch, not tsx watch: Ctrl-C reaches
 * the watcher twice (from the terminal and from concurrently), and tsx
 * watch takes the second as "kill now", cutting the server's drain; node
 * --watch passes both on.
 */
export function serverCommand() {
  const watch = serverWatchPaths()
    .map((path) => `--watch-path=${path}`)
    .join(" ");
  return `node --watch ${watch} --conditions=source --import tsx src/main.ts`;
}

// Generates src/gen from the .proto files of the conformance runner's own Go
// module, at the version scripts/tools.json pins, so the messages the server
// reads are the ones that runner writes.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "../../..");
const tools = JSON.parse(readFileSync(join(root, "scripts/tools.json"), "utf8")).tools;
const runner = tools.find((t) => t.name === "connectconformance");
const module = runner.package.replace(/\/cmd\/connectconformance$/, "");
const info = JSON.parse(
  execFileSync("go", ["mod", "download", "-json", `${module}@${runner.version}`], { encoding: "utf8", cwd: root }),
);
execFileSync(
  join(root, "node_modules/.bin/buf"),
  ["generate", join(info.Dir, "proto"), "--template", "apps/conformance/buf.gen.yaml"],
  {
    cwd: root,
    stdio: "inherit",
  },
);

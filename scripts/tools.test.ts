import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, delimiter, join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Tool {
  name: string;
  for: string;
  group: "dev" | "test";
  from: "machine" | "apt" | "npm" | "pip" | "go";
  package: string;
  version?: string;
  path?: string;
  when?: string;
}
const { tools } = JSON.parse(readFileSync(join(ROOT, "scripts/tools.json"), "utf8")) as { tools: Tool[] };
const names = new Set(tools.map((t) => t.name));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "dist" || entry === "gen" || entry.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|tsx|mjs|py|sh)$/.test(entry) ? [path] : [];
  });
}

/**
 * The programs a file starts by name: the first argument of spawn, execFile
 * and the like when it is a string, what `taskset -c CPU` runs, absolute
 * paths of system programs, and what .tools/bin holds.
 */
export function programsNamed(text: string): string[] {
  const found = new Set<string>();
  for (const re of [
    /\b(?:spawn|spawnSync|execFile|execFileSync|run)\(\s*"([^"/][^"]*)"/g,
    /"taskset",\s*\["-c",\s*[^,\]]+,\s*"([^"]+)"/g,
    /"\/usr\/(?:s?bin|lib\/python3\/dist-packages)\/([\w.-]+)/g,
    /\.tools\/bin\/([a-z][\w-]*)/g,
  ]) {
    for (const match of text.matchAll(re)) if (match[1]) found.add(match[1]);
  }
  return [...found];
}

describe("scripts/tools.json: every program outside node_modules", () => {
  it("names each program the code, the tests and the bench start", () => {
    const unlisted: string[] = [];
    for (const file of ["apps", "packages", "bench", "scripts", "deploy"].flatMap((d) => sources(join(ROOT, d)))) {
      if (file.endsWith("tools.test.ts")) continue;
      for (const program of programsNamed(readFileSync(file, "utf8"))) {
        if (!names.has(program)) unlisted.push(`${relative(ROOT, file)}: ${program}`);
      }
    }
    assert.deepEqual(unlisted, [], "add these to scripts/tools.json, so setup installs them");
  });

  it("finds programs in the shapes the code uses", () => {
    // The scan above is only as good as its patterns: a known sample of each.
    const sample = [
      'execFileSync("protoc", [])',
      'run("openssl", ["req"])',
      'spawn("taskset", ["-c", SERVER_CPU, "h2load", ...args])',
      'const PYTHON = process.env.X ?? "/usr/bin/python3";',
      'new URL("../../.tools/bin/grpcurl", import.meta.url)',
      'spawn(process.execPath, ["main.js"])',
    ].join("\n");
    assert.deepEqual(programsNamed(sample).sort(), ["grpcurl", "h2load", "openssl", "protoc", "python3", "taskset"]);
  });

  it("pins every program setup installs from a registry that allows it", () => {
    for (const t of tools) {
      assert.ok(t.for.length > 10, `${t.name}: say what it is for`);
      if (t.from === "machine") continue;
      if (t.from !== "apt")
        assert.match(t.version ?? "", /^(v?\d+\.\d+\.\d+|file:\.node-version)$/, `${t.name} is not pinned`);
      else assert.ok(t.path?.startsWith("/"), `${t.name}: an apt tool names the file it provides`);
    }
    assert.match(readFileSync(join(ROOT, ".node-version"), "utf8"), /^24\.\d+\.\d+\n$/);
  });

  it("has every tool where setup puts it, on this machine", () => {
    // What `npm test` ran `node scripts/setup.mjs --test` for: a tool that
    // setup forgot fails here, by name, before a suite fails on ENOENT.
    const onPath = (name: string) =>
      (process.env.PATH ?? "").split(delimiter).some((dir) => existsSync(join(dir, name)));
    const missing = tools
      .filter((t) => !(t.name === "node" && Number(process.versions.node.split(".")[0]) >= 22))
      .filter((t) => !(t.from === "machine" ? onPath(t.name) : existsSync(t.path ?? join(ROOT, ".tools/bin", t.name))))
      .map((t) => `${t.name} (${t.from} ${t.package}${t.version ? `@${t.version}` : ""})`);
    assert.deepEqual(missing, []);
  });

  it("keeps the Node it installed when setup runs again on that Node (as under `pnpm test`)", () => {
    const bin = join(ROOT, ".tools/bin");
    const path = [bin, ...(process.env.PATH ?? "").split(delimiter).filter((d) => d !== bin)].join(delimiter);
    const hadNode = existsSync(join(bin, "node"));
    const run = spawnSync(process.execPath, [join(ROOT, "scripts/setup.mjs")], {
      env: { ...process.env, PATH: path },
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(existsSync(join(bin, "node")), hadNode, "setup dropped or added .tools/bin/node");
  });

  it("runs the tests on Node 22 or newer", () => {
    assert.ok(Number(process.versions.node.split(".")[0]) >= 22, `Node ${process.versions.node}`);
    assert.equal(basename(process.execPath), "node");
  });
});

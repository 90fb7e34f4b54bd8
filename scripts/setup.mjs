// Brings a machine with only Node (any version from 18) and npm to where
// `pnpm dev` runs, and with --test to where the tests and the bench run.
// Every program comes from scripts/tools.json, pinned; project-local ones go
// into .tools/ (git-ignored), so nothing global changes but Debian packages.
// Idempotent: each step checks first, so running it again costs a second or two.
//
//   node scripts/setup.mjs           Node 22+ (24 from npm if PATH's is older), pnpm, dependencies
//   node scripts/setup.mjs --test    … plus every tool of the "test" group
//
// Runs on the machine's own Node, which may be older than the project's, so
// it uses nothing but Node's built-in modules.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TOOLS = join(ROOT, ".tools");
const BIN = join(TOOLS, "bin");
const { tools } = JSON.parse(readFileSync(join(ROOT, "scripts/tools.json"), "utf8"));
const withTests = process.argv.includes("--test");
const wanted = tools.filter((t) => t.group === "dev" || withTests);

function say(message) {
  console.error(`setup: ${message}`);
}

function fail(message) {
  console.error(`setup: ${message}`);
  process.exit(1);
}

function versionOf(tool) {
  return tool.version.startsWith("file:")
    ? readFileSync(join(ROOT, tool.version.slice("file:".length)), "utf8").trim()
    : tool.version;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"], ...options });
  if (result.error?.code === "ENOENT") fail(`'${command}' is not installed; it is needed to install the others.`);
  if (result.status !== 0) fail(`'${command} ${args.join(" ")}' failed (exit ${result.status}).`);
}

/** Points .tools/bin/NAME at TARGET (relative, so the folder can move with the clone). */
function link(name, target) {
  mkdirSync(BIN, { recursive: true });
  rmSync(join(BIN, name), { force: true });
  symlinkSync(target, join(BIN, name));
}

function writeScript(name, body) {
  mkdirSync(BIN, { recursive: true });
  rmSync(join(BIN, name), { force: true });
  writeFileSync(join(BIN, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

// npm: project-local packages in .tools/npm, installed together in one call.
function setUpNpm(list) {
  const dir = join(TOOLS, "npm");
  const missing = list.filter((t) => {
    const manifest = join(dir, "node_modules", t.package, "package.json");
    return !existsSync(manifest) || JSON.parse(readFileSync(manifest, "utf8")).version !== versionOf(t);
  });
  // The wanted packages are the folder's declared dependencies: `npm install`
  // prunes whatever package.json does not name, so a call that named only
  // the missing one would remove the others.
  const manifest = join(dir, "package.json");
  const dependencies = Object.fromEntries(list.map((t) => [t.package, versionOf(t)]));
  const declared = `${JSON.stringify({ private: true, dependencies }, null, 2)}\n`;
  if (missing.length > 0 || !existsSync(manifest) || readFileSync(manifest, "utf8") !== declared) {
    say(`installing ${list.map((t) => `${t.package}@${versionOf(t)}`).join(" ")} into .tools/npm`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(manifest, declared);
    // The node package's preinstall fetches the binary package of this
    // platform from the npm registry; nothing else runs install scripts here.
    run("npm", ["install", "--prefix", dir, "--no-fund", "--no-audit", "--loglevel=error"]);
  }
  for (const t of list) link(t.name, join("..", "npm", "node_modules", ".bin", t.name));
}

/** The version of the machine's own `node`: the first on PATH, leaving out the one setup installed. */
function machineNodeVersion() {
  const path = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => resolve(dir) !== BIN)
    .join(delimiter);
  const found = spawnSync("node", ["-p", "process.versions.node"], {
    encoding: "utf8",
    env: { ...process.env, PATH: path },
  });
  return found.status === 0 ? found.stdout.trim() : process.versions.node;
}

function setUpNode(tool) {
  // Asked of PATH, not of the Node running this script: under `pnpm …`
  // that is the Node setup installed, which must not talk itself away.
  const version = machineNodeVersion();
  const major = Number(version.split(".")[0]);
  if (major >= 22) {
    // The machine's own Node is new enough: use it, and drop a copy an older one needed.
    rmSync(join(BIN, "node"), { force: true });
    return [];
  }
  say(`Node ${version} on PATH is older than 22: the project runs on Node ${versionOf(tool)} in .tools/`);
  return [tool];
}

function setUpApt(list) {
  const installed = (pkg) =>
    // dpkg-query's own ${Status} field, spelled so that it reads as no template.
    spawnSync("dpkg-query", ["-W", "-f=$" + "{Status}", pkg], { encoding: "utf8" }).stdout?.includes("ok installed");
  const missing = list.filter((t) => !installed(t.package) || (t.path && !existsSync(t.path)));
  if (missing.length === 0) return;
  const names = [...new Set(missing.map((t) => t.package))];
  if (spawnSync("apt-get", ["--version"], { stdio: "ignore" }).error) {
    fail(
      `these Debian packages are missing and this machine has no apt-get: ${names.join(" ")}. Install them (or their equivalents), then run this again.`,
    );
  }
  say(`installing Debian packages ${names.join(" ")}`);
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const apt = (args) =>
    run(sudo[0] ?? args[0], sudo.length ? args : args.slice(1), {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdio: ["ignore", "ignore", "inherit"],
    });
  apt(["apt-get", "update", "-qq"]);
  apt(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...names]);
}

// pip: one virtual environment in .tools/venv, with a .tools/bin entry per tool.
function setUpPip(list) {
  const venv = join(TOOLS, "venv");
  const python = join(venv, "bin", "python");
  const stamp = join(venv, "pins.txt");
  const pins = list.flatMap((t) => [`${t.package}==${versionOf(t)}`, ...(t.pins ?? [])]).sort();
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== `${pins.join("\n")}\n`) {
    say(`installing ${pins.join(" ")} into .tools/venv`);
    if (!existsSync(python)) {
      const made = spawnSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
      if (made.status !== 0)
        fail("could not make a Python virtual environment: install Python 3 with venv (Debian: python3-venv).");
    }
    run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...pins]);
    writeFileSync(stamp, `${pins.join("\n")}\n`);
  }
  for (const t of list) if (t.name !== "protoc") writeScript(t.name, `exec "${join(venv, "bin", t.name)}" "$@"`);
  // protoc, with the compiler's own copy of the well-known types on its
  // proto path, after the caller's: whatever else the machine has under
  // /usr/include, the image gets the same google/protobuf/*.proto.
  writeScript(
    "protoc",
    `exec "${python}" -c 'import os, sys; from grpc_tools import protoc; wkt = os.path.join(os.path.dirname(protoc.__file__), "_proto"); sys.exit(protoc.main(["protoc", *sys.argv[1:], "--proto_path=" + wkt]))' "$@"`,
  );
}

// go: `go install` into .tools/bin; .tools/go-versions/NAME holds the version built.
function setUpGo(list) {
  for (const t of list) {
    const stamp = join(TOOLS, "go-versions", t.name);
    if (existsSync(join(BIN, t.name)) && existsSync(stamp) && readFileSync(stamp, "utf8") === t.version) continue;
    if (spawnSync("go", ["version"], { stdio: "ignore" }).status !== 0) {
      fail(
        `${t.name} is built with Go, which is not installed: install Go 1.25 or newer (https://go.dev/dl/), then run this again.`,
      );
    }
    say(`building ${t.package}@${t.version} into .tools/bin`);
    run("go", ["install", `${t.package}@${t.version}`], { env: { ...process.env, GOBIN: BIN, GOFLAGS: "-mod=mod" } });
    mkdirSync(dirname(stamp), { recursive: true });
    writeFileSync(stamp, t.version);
  }
}

const npm = wanted.filter((t) => t.from === "npm" && t.name !== "node");
const node = wanted.find((t) => t.name === "node");
setUpNpm([...(node ? setUpNode(node) : []), ...npm]);
setUpApt(wanted.filter((t) => t.from === "apt"));
if (withTests) {
  setUpPip(wanted.filter((t) => t.from === "pip"));
  setUpGo(wanted.filter((t) => t.from === "go"));
}

// The workspace's dependencies, with the project's Node and pnpm.
// CI=true makes pnpm refuse to touch the lockfile, so a stale one fails loudly.
const env = { ...process.env, PATH: `${BIN}:${process.env.PATH}` };
execFileSync(join(BIN, "pnpm"), ["install", "--prefer-offline", "--reporter=silent"], {
  cwd: ROOT,
  env,
  stdio: ["ignore", "inherit", "inherit"],
});

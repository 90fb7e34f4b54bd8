import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { listeningUrl } from "../testing-process.js";
import { DEPLOY_DIR, loadManifests } from "./manifests.js";

const run = promisify(execFile);

/** Every .js file under DIR. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".js"))
    .map((f) => join(dir, f));
}

/** The .js files ENTRIES import, directly or not, through relative imports. */
function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+\.js)"/g)) {
      if (m[1]) queue.push(join(dirname(file), m[1]));
    }
  }
  return seen;
}

// No Docker engine runs in CI, so this runs what the image's build stage
// runs (deploy/build-bundle.sh) and starts the result the way the image's
// CMD does, with the Deployment's environment.
describe("the container image's contents (deploy/build-bundle.sh)", () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), "greeter-bundle-"));
    await run("bash", [join(DEPLOY_DIR, "build-bundle.sh"), out], { maxBuffer: 16 * 1024 * 1024 });
  });
  after(() => rm(out, { recursive: true, force: true }));

  test("holds the server with production dependencies only, and the built web app", () => {
    assert.ok(existsSync(join(out, "server/dist/main.js")));
    assert.ok(existsSync(join(out, "web/index.html")));
    const store = readdirSync(join(out, "server/node_modules/.pnpm"));
    assert.ok(
      store.some((p) => p.startsWith("fastify@")),
      "fastify is there",
    );
    for (const dev of ["typescript@", "@grpc+grpc-js@", "vite@", "@biomejs+", "@bufbuild+buf@", "tsx@"]) {
      assert.ok(!store.some((p) => p.startsWith(dev)), `${dev} is a dev dependency, not for the image`);
    }
  });

  test("ships only what runs: no tests, no test helpers", () => {
    const dist = join(out, "server/dist");
    const files = jsFiles(dist);
    assert.ok(files.length > 20, `the server's modules are there (${files.length})`);
    assert.deepEqual(
      files.filter((f) => /\.test\.js$/.test(f)).map((f) => relative(dist, f)),
      [],
      "tests in the image",
    );
    // Each module is run by one of the entry points (package.json's bin-like scripts and exports).
    const entries = ["main.js", "mint-token-main.js", "balancer/replicas-main.js", "index.js", "balancer/index.js"];
    const used = reachable(entries.map((e) => join(dist, e)));
    assert.deepEqual(
      files.filter((f) => !used.has(f)).map((f) => relative(dist, f)),
      [],
      "modules no entry point imports (test-only code?)",
    );
  });

  test("starts with the Deployment's environment, serves every protocol and the page, drains on SIGTERM", async () => {
    const manifest = loadManifests().find((m) => m.doc.kind === "Deployment");
    const container = new Deployment(manifest?.doc as never).spec?.template.spec?.containers[0];
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? ""]));
    const child = spawn(process.execPath, ["dist/main.js"], {
      cwd: join(out, "server"),
      env: {
        PATH: process.env.PATH,
        ...env,
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: "0",
        ADMIN_HOST: "127.0.0.1",
        ADMIN_PORT: "0",
        WEB_ROOT: join(out, "web"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const { url, adminUrl } = await listeningUrl(child);
      const client = createClient(Greeter, createGrpcTransport({ baseUrl: url }));
      assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<div id="root">/);
      assert.equal((await fetch(`${url}/docs`)).status, 200);
      // The Deployment sets ADMIN_PORT: /metrics is there, not on the public port.
      assert.equal((await fetch(`${url}/metrics`)).status, 404);
      assert.equal((await fetch(`${adminUrl}/metrics`)).status, 200);
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

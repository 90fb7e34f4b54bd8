import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type CallFrame, type CpuProfile, categoryOf, compareProfiles, timeByCategory } from "./cpu-profiles.js";

const frame = (functionName: string, url = "", scriptId = url === "" ? "0" : "42"): CallFrame => ({
  functionName,
  url,
  scriptId,
});

/** A profile whose samples are `[node index, µs]` pairs over the given frames. */
function profile(frames: CallFrame[], samples: [number, number][]): CpuProfile {
  return {
    nodes: frames.map((callFrame, id) => ({ id, callFrame })),
    samples: samples.map(([id]) => id),
    timeDeltas: samples.map(([, us]) => us),
  };
}

describe("where profile samples are charged", () => {
  it("names packages, Node's modules, our files, native code and the collector", () => {
    const pnpm = "file:///r/node_modules/.pnpm/@bufbuild+cel@0.4.0/node_modules/@bufbuild/cel/dist/esm/eval.js";
    assert.equal(categoryOf(frame("eval", pnpm)), "@bufbuild/cel");
    assert.equal(categoryOf(frame("f", "file:///r/node_modules/.pnpm/pino@9/node_modules/pino/lib/x.js")), "pino");
    assert.equal(categoryOf(frame("respond", "node:internal/http2/core")), "Node: HTTP/2 (JavaScript side)");
    assert.equal(categoryOf(frame("emit", "node:events")), "Node: streams and events");
    assert.equal(
      categoryOf(frame("x", "file:///r/apps/server/dist/fast-path/unary-call.js")),
      "our server: fast-path/unary-call",
    );
    assert.equal(
      categoryOf(frame("x", "file:///r/packages/interceptors/dist/server/rpc-logging.js")),
      "@greeter/interceptors: server/rpc-logging",
    );
    assert.equal(categoryOf(frame("writeBuffer")), "native: writeBuffer");
    assert.equal(categoryOf(frame("anonymous0", "", "1126")), "JavaScript compiled at run time (fast-json-stringify)");
    assert.equal(categoryOf(frame("RegExp: ^a$")), "regular expressions");
    assert.equal(categoryOf(frame("(garbage collector)")), "garbage collection");
    assert.equal(categoryOf(frame("(idle)")), undefined);
  });

  it("compares two servers per call, largest difference first, the rest summed", () => {
    const frames = [frame("(idle)"), frame("(garbage collector)"), frame("eval", "file:///r/node_modules/cel/a.js")];
    // Subject: 100 calls, 3000 µs GC, 5000 µs cel; reference: 50 calls, 1000 µs GC, no cel.
    const subject = profile(frames, [
      [0, 9999],
      [1, 1000],
      [1, 2000],
      [2, 5000],
    ]);
    const reference = profile(frames, [
      [1, 1000],
      [0, 500],
    ]);
    const all = compareProfiles({ profiles: [subject], calls: 100 }, { profiles: [reference], calls: 50 });
    assert.deepEqual(
      all.lines.map((l) => [l.category, l.subjectMicros, l.referenceMicros]),
      [
        ["cel", 50, 0],
        ["garbage collection", 30, 20],
      ],
    );
    assert.deepEqual([all.total.subjectMicros, all.total.referenceMicros], [80, 20]);
    assert.deepEqual([all.onlyOneSide.subjectMicros, all.onlyOneSide.referenceMicros], [50, 0], "cel");
    assert.deepEqual([all.both.subjectMicros, all.both.referenceMicros], [30, 20], "the collector");
    const top1 = compareProfiles({ profiles: [subject], calls: 100 }, { profiles: [reference], calls: 50 }, 1);
    assert.deepEqual(
      top1.lines.map((l) => [l.category, l.subjectMicros]),
      [
        ["cel", 50],
        ["everything else (1 more)", 30],
      ],
    );
  });
});

describe("the profiler preload", () => {
  it("profiles a running process between two SIGUSR2s, and charges the work to its file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bench-prof-test-"));
    // Laid out as our code is, so the category names the file.
    const script = join(dir, "apps", "busy", "src", "spin.js");
    await mkdir(join(dir, "apps", "busy", "src"), { recursive: true });
    await writeFile(
      script,
      [
        "function spin() { const end = Date.now() + 5; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1); return x; }",
        "(function loop() { spin(); setImmediate(loop); })();",
        'console.log("ready");',
      ].join("\n"),
    );
    const child = spawn(
      process.execPath,
      ["--import", new URL("cpu-profile-preload.mjs", import.meta.url).pathname, script],
      {
        env: { ...process.env, BENCH_CPU_PROFILE: join(dir, "out") },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
      });
      assert.deepEqual(await profilesIn(dir), [], "nothing written before a window");
      child.kill("SIGUSR2");
      await sleep(400);
      child.kill("SIGUSR2");
      let files: string[] = [];
      for (let i = 0; i < 100 && files.length === 0; i++) {
        await sleep(100);
        files = await profilesIn(dir);
      }
      assert.deepEqual(files, ["out.1.cpuprofile"]);
      const times = timeByCategory([JSON.parse(await readFile(join(dir, "out.1.cpuprofile"), "utf8")) as CpuProfile]);
      const [top] = [...times].sort((a, b) => b[1] - a[1]);
      assert.equal(top?.[0], "busy: spin");
      // Most of a 400 ms window (less what signals and scheduling take).
      assert.ok((top?.[1] ?? 0) > 100_000, `spin: ${top?.[1]} µs`);
    } finally {
      child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function profilesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
}

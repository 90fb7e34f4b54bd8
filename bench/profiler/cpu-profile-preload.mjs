// Loaded with `--import` into a server the bench profiles (profile-runs.ts).
// Each SIGUSR2 toggles V8's CPU profiler: the first starts it, the next
// stops it and writes `${BENCH_CPU_PROFILE}.<n>.cpuprofile`. In-process, so
// a window covers exactly the load the bench sends in it, not start-up or
// warm-up. Plain JavaScript: the production server runs without tsx.
import { renameSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const target = process.env.BENCH_CPU_PROFILE;
// Finer than V8's default of 1 ms: a unary call takes about 0.1 ms.
const SAMPLING_INTERVAL_US = 250;

if (target) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  let running = false;
  let written = 0;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      session.post("Profiler.start");
      return;
    }
    running = false;
    session.post("Profiler.stop", (error, result) => {
      if (error) {
        console.error(`cpu profile: ${error.message}`);
        return;
      }
      const file = `${target}.${++written}.cpuprofile`;
      // Renamed into place, so the bench never reads half a file.
      writeFileSync(`${file}.part`, JSON.stringify(result.profile));
      renameSync(`${file}.part`, file);
    });
  });
}

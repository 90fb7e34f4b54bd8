import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchCase } from "../cases.js";
import type { LoadResult } from "../h2load.js";
import { type RunningServer, startServer } from "../process-stats.js";
import { type CpuProfile, compareProfiles, type ProfileComparison } from "./cpu-profiles.js";

/** A question the profiles answer: where does the subject spend what the reference does not? */
export interface ProfileQuestion {
  title: string;
  subject: string;
  reference: string;
}

/** The gaps behind the targets, each between two rows of the table (ids in cases.ts). */
export const PROFILE_QUESTIONS: readonly ProfileQuestion[] = [
  { title: "The interceptor chain: gRPC with it and without", subject: "greeter-grpc", reference: "greeter-grpc-bare" },
  {
    title: "Unary gRPC without interceptors, and the raw node:http2 ceiling",
    subject: "greeter-grpc-bare",
    reference: "raw",
  },
  {
    title: "Connect JSON over HTTP/1.1 without interceptors, and the Fastify REST route",
    subject: "greeter-connect-json-h1-bare",
    reference: "rest",
  },
  {
    title: "Connect JSON over HTTP/1.1 as shipped, and the Fastify REST route with the same chain",
    subject: "greeter-connect-json-h1",
    reference: "rest-chain",
  },
  {
    title: "gRPC-Web over HTTP/1.1 as shipped, and the Fastify REST route with the same chain",
    subject: "greeter-grpc-web",
    reference: "rest-chain",
  },
  { title: "GreetStream, and a bare node:http2 loop of writes", subject: "greeter-stream", reference: "raw-stream" },
];

/** A question with the two rows' labels. */
type LabelledQuestion = ProfileQuestion & { subjectLabel: string; referenceLabel: string };

/** The profiles' answer, or why there is none (a failed profile costs the run only its own table). */
export type ProfileAnswer =
  | {
      question: LabelledQuestion;
      comparison: ProfileComparison;
      /** Calls profiled on each side. */
      calls: number;
      /** What the figures are per: a call, or a streamed message. */
      unit: "call" | "message";
    }
  | { question: LabelledQuestion; error: string };

const PRELOAD = new URL("cpu-profile-preload.mjs", import.meta.url).pathname;
// Two windows per server, in ABBA order, so a drift in the host's speed
// weighs on both sides alike.
const WINDOWS = ["subject", "reference", "reference", "subject"] as const;

type Load = (c: BenchCase, port: number, requests: number) => Promise<LoadResult>;

/**
 * Starts a second, profiled instance of each server a question names (the
 * timed ones stay unprofiled), puts the same load on both in windows of
 * about `windowSec`, and compares their CPU profiles per call.
 */
export async function answerProfileQuestions(
  cases: readonly BenchCase[],
  load: Load,
  windowSec: number,
  ratePerSec: (c: BenchCase) => number,
): Promise<ProfileAnswer[]> {
  const answers: ProfileAnswer[] = [];
  for (const q of PROFILE_QUESTIONS) {
    const subject = cases.find((c) => c.id === q.subject);
    const reference = cases.find((c) => c.id === q.reference);
    if (!subject || !reference) continue;
    const question = { ...q, subjectLabel: subject.label, referenceLabel: reference.label };
    // The slower side sets the number of calls per window, so both serve the same.
    const requests = Math.max(100, Math.round(Math.min(ratePerSec(subject), ratePerSec(reference)) * windowSec));
    try {
      const profiles = await profileBoth({ subject, reference }, load, requests);
      const calls = requests * 2;
      // Streams are compared per message (both sides send as many per call).
      const units = calls * (subject.messagesPerCall ?? 1);
      answers.push({
        question,
        calls,
        unit: subject.messagesPerCall ? "message" : "call",
        comparison: compareProfiles(
          { profiles: profiles.subject, calls: units },
          { profiles: profiles.reference, calls: units },
        ),
      });
    } catch (e) {
      process.stderr.write(`profile failed: ${String(e)}\n`);
      answers.push({ question, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return answers;
}

/** Profiles both servers through the windows; their profiles, two each. */
async function profileBoth(
  sides: Record<"subject" | "reference", BenchCase>,
  load: Load,
  requests: number,
): Promise<Record<"subject" | "reference", CpuProfile[]>> {
  const dir = await mkdtemp(join(tmpdir(), "greeter-bench-prof-"));
  const servers: RunningServer[] = [];
  try {
    const start = async (side: "subject" | "reference"): Promise<RunningServer> => {
      const server = await startProfiled(sides[side], join(dir, side));
      servers.push(server);
      return server;
    };
    const started = { subject: await start("subject"), reference: await start("reference") };
    for (const side of WINDOWS) {
      const c = sides[side];
      const server = started[side];
      process.stderr.write(`profile: ${c.label} … `);
      await load(c, server.port, requests); // warm-up, unprofiled
      process.kill(server.pid, "SIGUSR2");
      await load(c, server.port, requests);
      process.kill(server.pid, "SIGUSR2");
      process.stderr.write("done\n");
    }
    return { subject: await readProfiles(dir, "subject", 2), reference: await readProfiles(dir, "reference", 2) };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** A server of the case's kind with the profiler preloaded (node servers only). */
function startProfiled(c: BenchCase, profilePrefix: string): Promise<RunningServer> {
  const [node, ...args] = c.server.command;
  if (node !== process.execPath) throw new Error(`${c.label}: only node servers can be profiled`);
  return startServer({
    ...c.server,
    command: [node, "--import", PRELOAD, ...args],
    env: { ...c.server.env, BENCH_CPU_PROFILE: profilePrefix },
  });
}

/** Waits (up to 30 s) for a server's `count` profiles and reads them. */
async function readProfiles(dir: string, side: string, count: number): Promise<CpuProfile[]> {
  for (let i = 0; i < 300; i++) {
    const files = (await readdir(dir)).filter((f) => f.startsWith(`${side}.`) && f.endsWith(".cpuprofile"));
    if (files.length >= count) {
      return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as CpuProfile));
    }
    await sleep(100);
  }
  throw new Error(`profile: ${side} wrote no ${count} profiles within 30 s`);
}

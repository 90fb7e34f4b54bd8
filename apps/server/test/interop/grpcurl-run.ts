import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { GRPCURL } from "./proto-paths.js";

const run = promisify(execFile);

/** What grpcurl did: its exit code and what it printed. */
export interface GrpcurlOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs grpcurl (Go, grpc-go) and returns its outcome, a non-zero exit included (within 30 s). */
export async function grpcurl(...args: string[]): Promise<GrpcurlOutcome> {
  try {
    const { stdout, stderr } = await run(GRPCURL, args, { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw e;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

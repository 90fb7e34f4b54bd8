import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.js";

export interface ReplicasOptions {
  /** How many. */
  count: number;
  /** How to start one: a Greeter entry point (source through tsx, or the build). */
  command: readonly string[];
  /** Added to this process's environment; each replica also gets HOST, PORT, ADMIN_PORT and WORKERS=1. */
  env?: Record<string, string>;
}

export interface Replicas {
  children: ChildProcess[];
  /** host:port of each, in start order: what the balancer sends calls to. */
  addresses: string[];
  /**
   * host:port of each one's admin listener (/metrics), in the same order:
   * scraped replica by replica, never through the balancer.
   */
  adminAddresses: string[];
}

async function healthy(address: string): Promise<boolean> {
  return fetch(`http://${address}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
}

/** Starts Greeter replicas on free loopback ports and waits until each answers /healthz (20 s at most). */
export async function startReplicas(options: ReplicasOptions): Promise<Replicas> {
  const [command = process.execPath, ...args] = options.command;
  const children: ChildProcess[] = [];
  const addresses: string[] = [];
  const adminAddresses: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const [port, adminPort] = [await freePort(), await freePort()];
    children.push(
      spawn(command, args, {
        env: {
          ...process.env,
          ...options.env,
          HOST: "127.0.0.1",
          PORT: String(port),
          ADMIN_HOST: "127.0.0.1",
          ADMIN_PORT: String(adminPort),
          WORKERS: "1",
        },
        stdio: ["ignore", "ignore", "inherit"],
      }),
    );
    addresses.push(`127.0.0.1:${port}`);
    adminAddresses.push(`127.0.0.1:${adminPort}`);
  }
  for (const address of addresses) {
    for (let i = 0; i < 200 && !(await healthy(address)); i++) await sleep(100);
  }
  return { children, addresses, adminAddresses };
}

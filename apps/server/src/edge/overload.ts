import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { type CorsPolicy, corsHeaders } from "@greeter/connect-fast-path";
import {
  type ByteBudget,
  createByteBudget,
  createMemoryGuard,
  type MemoryGuard,
  type OnePortServer,
  type OnePortServerOptions,
  type OverloadEvent,
  type Refusal,
} from "@greeter/one-port";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { ServerConfig } from "../config.js";
import { EXPOSED_HEADERS } from "../cors.js";
import type { SampledWarn } from "./refusals.js";

/** Paths that keep answering while the server sheds load: probes, and what an operator watches. */
const KEEP_SERVING = /^\/(healthz|metrics|grpc\.health\.v1\.Health\/)/;

const SHED_MESSAGE = "the server is short of memory; retry later";

/** The server's defences against a client that makes it hold too much: what one-port and the fast path are given. */
export interface OverloadDefences {
  readonly memoryGuard: MemoryGuard;
  readonly requestBudget: ByteBudget;
  /** one-port's options for shedding. */
  readonly onePortOptions: Pick<
    OnePortServerOptions,
    "memoryGuard" | "requestBudget" | "keepServing" | "refuse" | "onOverload"
  >;
  /**
   * The port whose heaviest connection is closed when the request budget's
   * total is spent: set once the port exists (it is built after these).
   */
  usePort(port: Pick<OnePortServer, "shedHeaviest">): void;
  close(): void;
}

/**
 * Builds the memory guard and the request budget from the settings, with
 * what a refusal looks like to each protocol, and makes every refusal
 * visible: counted in `greeter_overload_total` and
 * `greeter_request_budget_refused_total`, and logged at warn (a few lines a
 * second at most, so a flood does not become a log flood).
 */
export function createOverloadDefences(
  config: ServerConfig,
  logger: Logger,
  warn: SampledWarn,
  registry: Registry,
  guard?: MemoryGuard,
): OverloadDefences {
  const memoryGuard = guard ?? createMemoryGuard({ limitBytes: config.memoryLimitBytes });
  const cors: CorsPolicy = { allowedOrigins: config.corsOrigins, exposedHeaders: EXPOSED_HEADERS };
  const budget = createByteBudget({
    perConnectionBytes: config.requestBufferPerConnectionBytes,
    totalBytes: config.requestBufferTotalBytes,
  });

  const overload = new Counter({
    name: "greeter_overload_total",
    help: "Calls refused (action=refused) because memory ran short, and connections closed (action=closed) because memory ran short (why=memory) or the request budget's total was spent (why=request budget).",
    labelNames: ["action", "http_version", "why"],
    registers: [registry],
  });
  const budgetRefused = new Counter({
    name: "greeter_request_budget_refused_total",
    help: "Calls refused with RESOURCE_EXHAUSTED because their unfinished request bytes did not fit (budget=connection or total).",
    labelNames: ["budget"],
    registers: [registry],
  });
  new Gauge({
    name: "greeter_request_buffer_bytes",
    help: "Bytes of unfinished request messages the server holds now.",
    registers: [registry],
    collect() {
      this.set(budget.total);
    },
  });
  new Gauge({
    name: "greeter_memory_pressure",
    help: "0 normal, 1 shedding new calls, 2 closing the heaviest connections.",
    registers: [registry],
    collect() {
      this.set(memoryGuard.pressure === "normal" ? 0 : memoryGuard.pressure === "shed" ? 1 : 2);
    },
  });

  // Every refusal of the budget, on either path, passes through `hold`.
  // When the total is spent, the connection holding the most of it is
  // closed too: one client with several connections must not hold the
  // budget every other client's large calls need.
  let port: Pick<OnePortServer, "shedHeaviest"> | undefined;
  const requestBudget: ByteBudget = {
    ...budget,
    hold(connection, bytes) {
      const spent = budget.hold(connection, bytes);
      if (spent) {
        budgetRefused.inc({ budget: spent });
        warn("request budget spent: call refused with RESOURCE_EXHAUSTED", { budget: spent, bytes });
        if (spent === "total") port?.shedHeaviest("request budget");
      }
      return spent;
    },
    get total() {
      return budget.total;
    },
  };

  const onOverload = (event: OverloadEvent): void => {
    overload.inc({
      action: event.action,
      http_version: event.httpVersion,
      why: event.action === "closed" ? event.why : "memory",
    });
    // Refusals are logged by refuse(), with the id of the answer.
    if (event.action === "closed") {
      logger.warn(
        { peer: event.peer, heldBytes: event.heldBytes, httpVersion: event.httpVersion, memory: memoryGuard.last },
        event.why === "memory"
          ? "memory critical: closed the connection holding the most"
          : "request budget spent: closed the connection holding the most of it",
      );
    }
  };

  return {
    memoryGuard,
    requestBudget,
    onePortOptions: {
      memoryGuard,
      requestBudget,
      keepServing: (path) => KEEP_SERVING.test(path),
      refuse: (headers, peer) => {
        const requestId = randomUUID();
        warn("memory short: call refused with UNAVAILABLE", {
          requestId,
          path: headers[":path"] ?? "",
          peer,
        });
        return refusal(headers, requestId, cors);
      },
      onOverload,
    },
    usePort(onePort) {
      port = onePort;
    },
    close: () => memoryGuard.close(),
  };
}

/**
 * A call refused while shedding, as its protocol says UNAVAILABLE: gRPC and
 * gRPC-Web in a trailers-only answer, Connect as JSON with 503 (which every
 * Connect client reads as `unavailable`), and a plain 503 for anything
 * else. Each carries the request id that the warn line names, and the CORS
 * headers an allowed page needs to read it.
 */
function refusal(headers: IncomingHttpHeaders, requestId: string, cors: CorsPolicy): Refusal {
  const contentType = headers["content-type"] ?? "";
  // A page from an allowed origin must be able to read the refusal, or it
  // sees a network error instead of UNAVAILABLE.
  const head = { ...corsHeaders(headers, cors), "x-request-id": requestId, "retry-after": "1" };
  if (contentType.startsWith("application/grpc")) {
    return {
      status: 200,
      headers: {
        ...head,
        "content-type": contentType,
        "grpc-status": "14",
        "grpc-message": encodeURIComponent(SHED_MESSAGE),
      },
    };
  }
  return {
    status: 503,
    headers: { ...head, "content-type": "application/json" },
    body: JSON.stringify({ code: "unavailable", message: SHED_MESSAGE }),
  };
}

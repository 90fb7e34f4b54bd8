import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@greeter/proto/health/v1/health_pb.js";

export { ServingStatus };

/** The name under which the server as a whole reports, as the gRPC health protocol defines it. */
export const OVERALL_SERVICE = "";

export interface HealthServiceOptions {
  /**
   * Services known from the start, with their status. The overall service
   * (`""`) is always known.
   * @default {} (only the overall service, SERVING)
   */
  initial?: Record<string, ServingStatus>;
}

/**
 * The standard `grpc.health.v1.Health` service: Check, Watch and List, plus
 * the calls a server makes to report its own state.
 */
export interface HealthService {
  /** Register it with `router.service(Health, health.impl)`. */
  readonly impl: ServiceImpl<typeof Health>;
  /** The status of one service, or `undefined` if it is unknown. */
  getStatus(service: string): ServingStatus | undefined;
  /** Sets a service's status; Watch callers see the change at once. Ignored after `shutdown()`. */
  setStatus(service: string, status: ServingStatus): void;
  /**
   * Marks every service NOT_SERVING for good: a draining server must never
   * flip back to SERVING because some component reports late.
   */
  shutdown(): void;
}

type Listener = (status: ServingStatus) => void;

export function createHealthService(options: HealthServiceOptions = {}): HealthService {
  const statuses = new Map<string, ServingStatus>([
    [OVERALL_SERVICE, ServingStatus.SERVING],
    ...Object.entries(options.initial ?? {}),
  ]);
  const listeners = new Map<string, Set<Listener>>();
  let terminal = false;

  function publish(service: string, status: ServingStatus): void {
    if (statuses.get(service) === status) return;
    statuses.set(service, status);
    for (const listener of listeners.get(service) ?? []) listener(status);
  }

  function subscribe(service: string, listener: Listener): () => void {
    let set = listeners.get(service);
    if (!set) {
      set = new Set();
      listeners.set(service, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) listeners.delete(service);
    };
  }

  const response = (status: ServingStatus): HealthCheckResponse => create(HealthCheckResponseSchema, { status });

  const impl: ServiceImpl<typeof Health> = {
    check(req: HealthCheckRequest) {
      const status = statuses.get(req.service);
      if (status === undefined) {
        throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      }
      return response(status);
    },

    async *watch(req: HealthCheckRequest, ctx: HandlerContext) {
      const updates = new UpdateQueue<ServingStatus>(ctx.signal);
      const unsubscribe = subscribe(req.service, (status) => updates.push(status));
      try {
        let sent = statuses.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        yield response(sent);
        for (;;) {
          const next = await updates.next();
          if (next === undefined) return;
          if (next !== sent) {
            sent = next;
            yield response(next);
          }
        }
      } finally {
        unsubscribe();
      }
    },

    list() {
      return create(HealthListResponseSchema, {
        statuses: Object.fromEntries([...statuses].map(([name, status]) => [name, response(status)])),
      });
    },
  };

  return {
    impl,
    getStatus: (service) => statuses.get(service),
    setStatus(service, status) {
      if (!terminal) publish(service, status);
    },
    shutdown() {
      terminal = true;
      for (const service of statuses.keys()) publish(service, ServingStatus.NOT_SERVING);
    },
  };
}

/**
 * Values pushed by a listener, read one at a time by an async generator.
 * `next()` resolves `undefined` once the signal aborts, so a watcher whose
 * client went away stops waiting at once.
 */
class UpdateQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener("abort", () => this.wake?.(), { once: true });
  }

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  async next(): Promise<T | undefined> {
    while (this.items.length === 0) {
      if (this.signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
    return this.signal.aborted ? undefined : this.items.shift();
  }
}

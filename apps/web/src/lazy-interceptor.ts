import type { Interceptor } from "@connectrpc/connect";

/**
 * An interceptor whose code loads with the first call, not with the page:
 * for one that needs a large library (the OpenTelemetry SDK) the page can
 * show itself without. Every call waits for the same load; a failed load
 * fails the call that waited, and the next call tries again.
 */
export function createLazyInterceptor(load: () => Promise<Interceptor>): Interceptor {
  let loading: Promise<Interceptor> | undefined;
  return (next) => async (req) => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return (await loading)(next)(req);
  };
}

import type { ConnectError, ContextKey } from "@connectrpc/connect";

/**
 * What the fast path knows about a call that a Connect interceptor does not
 * see, put in the call's context values under the key given as
 * `FastPathOptions.callInfoKey`. Every field is optional, so that the same
 * key can carry what another adapter (connect-node's, say) knows of its
 * calls.
 */
export interface CallInfo {
  /** `grpc`, `grpc-web` or `connect`. */
  protocol?: string;
  /** The client's address, e.g. `127.0.0.1:53110`. */
  peer?: string;
  /** Request body bytes on the wire. */
  bytesIn?: number;
  /**
   * Response body bytes on the wire: for a unary call, set before the
   * interceptors return; for a stream, present from the start and kept up
   * to date as each message is written.
   */
  bytesOut?: number;
  /**
   * Why the call was ended from outside its handler (the client's cancel or
   * disconnect, the deadline, the shutdown), known sooner than the
   * request's signal says it.
   */
  abortReason?(): ConnectError | undefined;
  /** `abortReason` knows every reason the signal would give, so interceptors need not read the signal (made only if asked). */
  abortReasonComplete?: boolean;
}

/** The context key a server's interceptors read a call's {@link CallInfo} from. */
export type CallInfoKey = ContextKey<CallInfo | undefined>;

import type { ConnectError } from "@connectrpc/connect";
import type { CallInfo } from "../call-info.js";
import type { CallContext } from "./context.js";

/** One call as the protocol code hands it over: its parsed request and its context. */
export interface CallStart {
  context: CallContext;
  request: unknown;
  /** Request body bytes read. */
  bytesIn: number;
  /** The client's address, read only if an interceptor asks. */
  peer: () => string;
}

/** The fast path's CallInfo, with the peer address read only if asked for. */
export class FastCallInfo implements CallInfo {
  readonly protocol: string;
  readonly bytesIn: number;
  bytesOut: number | undefined;
  readonly abortReasonComplete = true;
  private address: string | undefined;

  constructor(private readonly start: CallStart) {
    this.protocol = start.context.protocolName;
    this.bytesIn = start.bytesIn;
  }

  get peer(): string {
    this.address ??= this.start.peer();
    return this.address;
  }

  abortReason(): ConnectError | undefined {
    return this.start.context.abortReason;
  }
}

/**
 * The Greeter's limits on whole streams. The rules for each message (name
 * length, count and interval ranges, chat message length) are protovalidate
 * options in proto/greeter/v1/greeter.proto, checked before any handler runs.
 */
export const LIMITS = {
  /** Most names one GreetEveryone call may send. */
  everyoneMaxNames: 1_000,
  /** Largest voice greeting upload, in bytes, over all its chunks. */
  uploadMaxBytes: 100 * 1024 * 1024,
} as const;

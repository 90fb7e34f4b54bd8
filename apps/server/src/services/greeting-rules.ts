import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The Greeter's input rules, each failing with INVALID_ARGUMENT and a
 * message that tells the caller what to fix.
 */
export const LIMITS = {
  /** Longest name, in characters (Unicode code points) after trimming. */
  nameMaxChars: 100,
  /** Most greetings one GreetStream call may ask for. */
  streamMaxCount: 10_000,
  /** Longest pause GreetStream may be asked to take between greetings. */
  streamMaxIntervalMs: 60_000,
  /** Most names one GreetEveryone call may send. */
  everyoneMaxNames: 1_000,
  /** Longest chat message, in characters. */
  chatMaxChars: 1_000,
  /** Largest voice greeting upload, in bytes, over all its chunks. */
  uploadMaxBytes: 100 * 1024 * 1024,
} as const;

/** Returns the trimmed name, or throws if it is empty or too long. */
export function checkName(name: string, field = "name"): string {
  const trimmed = name.trim();
  if (trimmed === "") {
    throw new ConnectError(`${field} must not be empty`, Code.InvalidArgument);
  }
  const length = [...trimmed].length;
  if (length > LIMITS.nameMaxChars) {
    throw new ConnectError(
      `${field} must be at most ${LIMITS.nameMaxChars} characters, got ${length}`,
      Code.InvalidArgument,
    );
  }
  return trimmed;
}

export function checkRange(value: number, min: number, max: number, field: string): number {
  if (value < min || value > max) {
    throw new ConnectError(`${field} must be between ${min} and ${max}, got ${value}`, Code.InvalidArgument);
  }
  return value;
}

export function checkMaxChars(value: string, max: number, field: string): string {
  const length = [...value].length;
  if (length > max) {
    throw new ConnectError(`${field} must be at most ${max} characters, got ${length}`, Code.InvalidArgument);
  }
  return value;
}

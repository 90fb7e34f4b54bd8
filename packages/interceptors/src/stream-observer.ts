import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Passes a stream's messages on, calling `onMessage` for each, and `onEnd`
 * once when the stream is over: complete (no error), failed (the error, as
 * `toError` makes it: what the other side will see), or abandoned by its
 * consumer (CANCELED).
 */
export async function* observeStream<T>(
  messages: AsyncIterable<T>,
  toError: (e: unknown) => ConnectError,
  onMessage: (message: T) => void,
  onEnd?: (error: ConnectError | undefined) => void,
): AsyncIterable<T> {
  let ended = false;
  try {
    for await (const message of messages) {
      onMessage(message);
      yield message;
    }
    ended = true;
    onEnd?.(undefined);
  } catch (e) {
    ended = true;
    const error = toError(e);
    onEnd?.(error);
    throw error;
  } finally {
    if (!ended) onEnd?.(new ConnectError("the stream was abandoned", Code.Canceled));
  }
}

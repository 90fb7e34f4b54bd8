import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Passes a stream's messages on, calling `onMessage` for each, and `onEnd`
 * once when the stream is over: complete (no error), failed (the error, as
 * `toError` makes it: what the other side will see), or abandoned by its
 * consumer (CANCELED).
 *
 * An iterator object rather than an async generator: a generator costs a
 * suspension and several promises per message, and on a server stream
 * every interceptor that watches it adds one; this adds one `then`.
 */
export function observeStream<T>(
  messages: AsyncIterable<T>,
  toError: (e: unknown) => ConnectError,
  onMessage: (message: T) => void,
  onEnd?: (error: ConnectError | undefined) => void,
): AsyncIterableIterator<T> {
  let source: AsyncIterator<T> | undefined;
  let ended = false;
  const end = (error: ConnectError | undefined): void => {
    if (ended) return;
    ended = true;
    onEnd?.(error);
  };
  /** Ends with `e` as the other side sees it, closes the source, and throws. */
  const fail = async (e: unknown): Promise<never> => {
    const error = toError(e);
    end(error);
    await source?.return?.();
    throw error;
  };
  const pass = (result: IteratorResult<T>): IteratorResult<T> | Promise<never> => {
    if (result.done === true) {
      end(undefined);
      return result;
    }
    try {
      onMessage(result.value);
    } catch (e) {
      return fail(e);
    }
    return result;
  };
  const failed = (e: unknown): Promise<never> => {
    const error = toError(e);
    end(error);
    throw error;
  };

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (ended) return Promise.resolve({ done: true, value: undefined });
      source ??= messages[Symbol.asyncIterator]();
      return source.next().then(pass, failed);
    },
    async return(value?: unknown) {
      end(new ConnectError("the stream was abandoned", Code.Canceled));
      await source?.return?.();
      return { done: true, value: value as T };
    },
    throw(e?: unknown) {
      return fail(e);
    },
  };
}

import { ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * The request header that makes {@link failingInterceptor} throw a plain
 * Error (not a ConnectError): `plain` before the handler runs,
 * `plain-mid-stream` after a stream's first message.
 */
export const FAIL = "x-diff-fail";

/**
 * The request header that makes {@link failingInterceptor} add metadata to
 * any ConnectError the call ends with: `protocol` (headers that name the
 * protocol's own, which no answer may carry over), `custom` (an ordinary
 * and a `-bin` one), or `both`.
 */
export const ERROR_METADATA = "x-diff-error-metadata";

const PROTOCOL_METADATA: [string, string][] = [
  ["content-encoding", "gzip"],
  ["content-type", "text/html"],
  ["grpc-status", "0"],
  ["grpc-message", "all is well"],
  ["grpc-encoding", "br"],
  ["connect-content-encoding", "gzip"],
];
const CUSTOM_METADATA: [string, string][] = [
  ["x-foo", "bar"],
  ["x-foo-bin", "AAEC"],
];

function withMetadata(reason: unknown, which: string | null): unknown {
  if (which === null || !(reason instanceof ConnectError)) return reason;
  const pairs = [...(which === "custom" ? [] : PROTOCOL_METADATA), ...(which === "protocol" ? [] : CUSTOM_METADATA)];
  for (const [name, value] of pairs) reason.metadata.append(name, value);
  return reason;
}

async function* failingStream<T>(messages: AsyncIterable<T>, plainAfterFirst: boolean, which: string | null) {
  let sent = 0;
  try {
    for await (const message of messages) {
      if (plainAfterFirst && sent === 1) throw new Error("a plain Error, after a message");
      yield message;
      sent++;
    }
    if (plainAfterFirst && sent === 1) throw new Error("a plain Error, after a message");
  } catch (reason) {
    throw withMetadata(reason, which);
  }
}

/**
 * Fails calls as their request headers ask ({@link FAIL},
 * {@link ERROR_METADATA}), the same on both paths, so that the
 * differential test reaches errors the ConformanceService cannot make.
 */
export const failingInterceptor: Interceptor = (next) => async (req) => {
  const fail = req.header.get(FAIL);
  const which = req.header.get(ERROR_METADATA);
  if (fail === "plain") throw new Error("a plain Error, with a secret in it");
  try {
    const res = await next(req);
    if (!res.stream) return res;
    return { ...res, message: failingStream(res.message, fail === "plain-mid-stream", which) };
  } catch (reason) {
    throw withMetadata(reason, which);
  }
};

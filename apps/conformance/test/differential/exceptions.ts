import type { IncomingHttpHeaders } from "node:http";
import type { JsonValue } from "@bufbuild/protobuf";
import { clampLongTimeouts } from "@greeter/connect-fast-path";
import type { Call, Wire } from "./calls.js";
import type { Comparable } from "./comparable.js";
import { ERROR_METADATA, FAIL } from "./failing-interceptor.js";

/**
 * The header every call refused before the interceptors is answered with,
 * on either path (@greeter/connect-server reports the refusal under that
 * id): a new random id on each server, so it is taken out of every answer
 * before comparing, and its presence says the call was refused early.
 */
const REQUEST_ID = "x-request-id";

/** The answer without its request id, wherever it went (a header, a trailer, a trailer frame's line, end-stream metadata); and whether it had one. */
function withoutRequestId(answer: Comparable): [Comparable, boolean] {
  let found = false;
  const strip = (value: JsonValue): JsonValue => {
    if (Array.isArray(value)) {
      const kept = value.filter((item) => !(typeof item === "string" && item.startsWith(`${REQUEST_ID}:`)));
      if (kept.length < value.length) found = true;
      return kept.map(strip);
    }
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === REQUEST_ID || key === `trailer ${REQUEST_ID}`) found = true;
      else if (item !== undefined) out[key] = strip(item);
    }
    return out;
  };
  const stripped = strip(answer as unknown as JsonValue) as unknown as Comparable;
  return [stripped, found];
}

/**
 * A difference between the two paths that is known and accepted, with the
 * reason. `adjust` takes exactly that difference out of the two answers
 * (the fast path's first, connect-node's second), so that everything else
 * in them is still compared.
 */
export interface KnownDifference {
  name: string;
  reason: string;
  adjust(call: Call, wire: Wire, fast: Comparable, slow: Comparable): [Comparable, Comparable];
}

/** An answer with every occurrence of a JSON string value replaced. */
function replaceString(answer: Comparable, from: string, to: string): Comparable {
  const text = JSON.stringify(answer).replaceAll(JSON.stringify(from), JSON.stringify(to));
  return JSON.parse(text) as Comparable;
}

/** Every accepted difference; the package README lists the same. */
export const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    name: "a server stream refused before the interceptors",
    reason:
      "the fast path refuses a server-streaming call whose request it cannot serve (its body, its deadline header) " +
      "before the interceptors run, and reports it through onRefused; connect-node reads a stream's request inside " +
      "the interceptor chain, so there an interceptor sees that error first, and may fail the call its own way or " +
      "add metadata. Both answer with an error before any message; when an interceptor acts on the call, its " +
      "error and metadata are not compared.",
    adjust(call, wire, fast, slow) {
      const [plainFast, early] = withoutRequestId(fast);
      const [plainSlow] = withoutRequestId(slow);
      slow = plainSlow;
      if (!early || call.kind !== "server-stream") return [plainFast, slow];
      const interceptorActs = wire.headers.some(([name]) => name === FAIL || name === ERROR_METADATA);
      if (!interceptorActs) return [plainFast, slow];
      const summary = (answer: Comparable): Comparable => ({
        status: answer.status,
        headers: { "content-type": answer.headers["content-type"] ?? null },
        // A message sent still counts: both must have failed before any.
        body: JSON.stringify(answer.body).includes('"message":{') ? answer.body : "(an error before any message)",
      });
      return [summary(plainFast), summary(slow)];
    },
  },
  {
    name: "long deadlines, as the handler sees the header",
    reason:
      "clampLongTimeouts rewrites a deadline longer than setTimeout can wait (grpc-timeout 720H, connect-timeout-ms " +
      "past 2147483647) in the headers connect-node reads, so its handler sees the clamped value; the fast path " +
      "clamps the deadline without touching the header, but hands some calls (compressed, text) to connect-node. " +
      "Both serve the call alike. Compared as clamped.",
    adjust(_call, wire, fast, slow) {
      const headers: IncomingHttpHeaders = Object.fromEntries(wire.headers);
      const original = { ...headers };
      clampLongTimeouts(headers);
      let answers: [Comparable, Comparable] = [fast, slow];
      for (const name of ["grpc-timeout", "connect-timeout-ms"]) {
        const before = original[name];
        const after = headers[name];
        if (typeof before === "string" && typeof after === "string" && before !== after) {
          answers = [replaceString(answers[0], before, after), replaceString(answers[1], before, after)];
        }
      }
      return answers;
    },
  },
  {
    name: "gRPC-Web text, as the handler sees the content type",
    reason:
      "connect-node has no text mode: createConnectNodeCompletions hands it the call translated to binary " +
      "gRPC-Web, so its handler sees content-type application/grpc-web+proto where the fast path's, for the " +
      "calls it answers itself, sees the client's application/grpc-web-text. Compared as binary.",
    adjust(call, wire, fast, slow) {
      const sent = wire.headers.find(([name]) => name === "content-type")?.[1];
      if (call.protocol !== "grpc-web-text" || sent === undefined) return [fast, slow];
      const binary = "application/grpc-web+proto";
      return [replaceString(fast, sent, binary), replaceString(slow, sent, binary)];
    },
  },
  {
    name: "gRPC errors in a Trailers-Only answer",
    reason:
      "the fast path answers a gRPC call that fails before its first message with one HEADERS frame holding the " +
      "status and metadata (gRPC's Trailers-Only form); connect-node sends headers, then the status in trailers. " +
      "gRPC clients read both alike. Compared as one set of fields when the fast path's is Trailers-Only.",
    adjust(_call, _wire, fast, slow) {
      if (fast.headers["grpc-status"] === undefined || slow.headers["grpc-status"] !== undefined) return [fast, slow];
      const merged: Record<string, JsonValue> = {};
      for (const [name, value] of Object.entries(slow.headers)) merged[name.replace(/^trailer /, "")] = value;
      return [
        fast,
        { ...slow, headers: Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : 1))) },
      ];
    },
  },
];

/** The two answers with every known difference taken out. */
export function withoutKnownDifferences(
  call: Call,
  wire: Wire,
  fast: Comparable,
  slow: Comparable,
): [Comparable, Comparable] {
  return KNOWN_DIFFERENCES.reduce<[Comparable, Comparable]>(
    ([a, b], known) => known.adjust(call, wire, a, b),
    [fast, slow],
  );
}

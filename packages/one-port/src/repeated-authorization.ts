import type { IncomingHttpHeaders } from "node:http";

const NAME = "authorization";

/**
 * Node keeps the first of repeated `authorization` fields and drops the
 * others without a word, on HTTP/1.1 and HTTP/2 alike: a server would check
 * one credential of several, not knowing there were more, and which one it
 * checks is the sender's choice. This puts every value back, joined with
 * ", " as Fetch's Headers holds repeated fields, so that whatever reads the
 * field sees them all (a bearer token never holds a comma). Only a request
 * that has the field pays for the look at its raw fields.
 */
export function keepRepeatedAuthorization(headers: IncomingHttpHeaders, rawHeaders: readonly string[]): void {
  if (headers.authorization === undefined) return;
  let joined: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    // HTTP/1.1 keeps the sender's case; HTTP/2's names are lower case.
    if (name.length !== NAME.length || name.toLowerCase() !== NAME) continue;
    const value = rawHeaders[i + 1] as string;
    joined = joined === undefined ? value : `${joined}, ${value}`;
  }
  if (joined !== undefined) headers.authorization = joined;
}

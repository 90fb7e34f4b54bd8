/**
 * A token a verifier refuses, with a reason in the project's own words that
 * the client may read ("it has expired"). The library's own error, whose
 * wording may change with its versions and may say more than a stranger
 * needs, is the `cause`: the server's log shows it, the client never does.
 */
export class InvalidTokenError extends Error {
  override name = "InvalidTokenError";
}

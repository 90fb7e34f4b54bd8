/**
 * An identity provider's discovery document or key set could not be had:
 * the message names the URL and what went wrong ("did not answer within
 * 5000 ms"), for the operator. At start-up it stops the server; later it
 * goes to the log, and a client whose token needed new keys is told so in
 * our words.
 */
export class KeyProviderError extends Error {
  override name = "KeyProviderError";

  constructor(
    /** The URL that was fetched. */
    readonly url: string,
    /** What went wrong, as the end of a sentence starting with the URL. */
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${url}: ${problem}`, options);
  }
}

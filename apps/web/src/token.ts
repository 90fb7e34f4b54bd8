const TOKEN_KEY = "greeter.token";

/**
 * The access token the page sends, if the person gave one (kept for this
 * tab only). Apart from the API client (api.ts) so that the token field
 * needs none of the client's code to show itself.
 */
export const accessToken = {
  get: (): string | undefined => sessionStorage.getItem(TOKEN_KEY) || undefined,
  set: (token: string): void => {
    if (token.trim()) sessionStorage.setItem(TOKEN_KEY, token.trim());
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

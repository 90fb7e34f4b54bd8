/** The API client (api.ts) and everything it needs: connect-web, protobuf-es, the generated code. */
export type Api = typeof import("./api.js");

/** What the page says when the client's code itself could not be fetched. */
export const CLIENT_NOT_LOADED = "The page could not load all of its code. Check your connection and try again.";

let loading: Promise<Api> | undefined;

/**
 * The API client, loaded apart from the page: React and the page's own code
 * show the form first, and main.tsx starts this load right after, so it
 * comes in while the person types. A failed load is tried again by the next
 * caller.
 */
export function loadApi(): Promise<Api> {
  loading ??= import("./api.js").catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Why a call failed, for the page: the server's objection to `field` if it made one, else a sentence to show. */
export async function explainFailure(
  e: unknown,
  field: string,
): Promise<{ violation: string | undefined; message: string }> {
  let api: Api;
  try {
    api = await loadApi();
  } catch {
    return { violation: undefined, message: CLIENT_NOT_LOADED };
  }
  const violation = (await api.fieldViolations(e)).get(field);
  return { violation, message: violation ? "" : await api.describeError(e) };
}

/**
 * The headers that tell a browser how to treat the page and /docs: a
 * Content-Security-Policy that lets them run only the files this server
 * serves, call only their own origin and never be framed, plus
 * `X-Content-Type-Options`, `Referrer-Policy` and their older spellings.
 * RPC answers carry none of them: no browser renders them as a document.
 */
export interface SecurityHeadersOptions {
  /**
   * Origins the page may call besides its own: the API on another origin
   * (the Vite dev server's page), a trace collector.
   * @default none
   */
  connectSrc?: readonly string[];
  /**
   * A nonce for the inline scripts and styles a dev tool writes into the
   * page (Vite's dev server: its React refresh preamble and the CSS it
   * injects). The built page and /docs have no inline code at all.
   * @default none
   */
  nonce?: string;
}

/**
 * The file a web build writes beside its index.html (apps/web/vite.config.ts):
 * a JSON list of the origins the page calls besides its own (a build's
 * VITE_API_URL, VITE_OTEL_EXPORTER_OTLP_ENDPOINT), for `connectSrc`.
 */
export const CONNECT_SRC_FILE = "connect-src.json";

/** The headers, by lower-case name. */
export function securityHeaders(options: SecurityHeadersOptions = {}): Record<string, string> {
  const nonce = options.nonce === undefined ? "" : ` 'nonce-${options.nonce}'`;
  const connect = ["'self'", ...(options.connectSrc ?? [])].join(" ");
  const policy = [
    "default-src 'self'",
    `script-src 'self'${nonce}`,
    `style-src 'self'${nonce}`,
    // Swagger UI's stylesheet draws its icons as data: SVGs.
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "content-security-policy": policy,
    "x-content-type-options": "nosniff",
    // The page's calls and links need no referrer; none leaks its URL.
    "referrer-policy": "no-referrer",
    // frame-ancestors for browsers that predate it.
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
  };
}

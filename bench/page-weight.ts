import { readdir, readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";

/** One script of the built page. */
export interface PageScript {
  path: string;
  bytes: number;
  gzipBytes: number;
}

/** The JavaScript a browser loads before the page can show itself, as built by Vite. */
export interface PageWeight {
  files: PageScript[];
  bytes: number;
  gzipBytes: number;
  /**
   * The page's other scripts, which it imports when it needs them (the API
   * client right after the first render, OpenTelemetry with the first call,
   * the rule schema with the first violation): reported, not counted.
   */
  later: PageScript[];
}

/**
 * Reads the built page's index.html and sums the scripts it loads at once:
 * its module scripts and what it preloads. Chunks loaded later (an
 * `import()` the page makes only when it needs it) are not counted.
 */
export async function measurePageWeight(distDir: URL): Promise<PageWeight> {
  const html = await readFile(new URL("index.html", distDir), "utf8");
  const paths = [
    ...html.matchAll(/<script[^>]*\ssrc="([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g),
  ].map((m) => m[1] ?? "");
  const script = async (path: string): Promise<PageScript> => {
    const body = await readFile(new URL(`.${path}`, distDir));
    return { path, bytes: body.length, gzipBytes: gzipSync(body).length };
  };
  const first = new Set(paths);
  const files = await Promise.all([...first].map(script));
  const others = (await readdir(new URL("assets/", distDir)))
    .filter((name) => name.endsWith(".js"))
    .map((name) => `/assets/${name}`)
    .filter((path) => !first.has(path));
  return {
    files,
    later: await Promise.all(others.map(script)),
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
  };
}

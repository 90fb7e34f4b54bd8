import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";

/** The JavaScript a browser loads before the page can greet, as built by Vite. */
export interface PageWeight {
  files: { path: string; bytes: number; gzipBytes: number }[];
  bytes: number;
  gzipBytes: number;
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
  const files = await Promise.all(
    [...new Set(paths)].map(async (path) => {
      const body = await readFile(new URL(`.${path}`, distDir));
      return { path, bytes: body.length, gzipBytes: gzipSync(body).length };
    }),
  );
  return {
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
  };
}

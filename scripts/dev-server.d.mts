// Types of dev-server.mjs, which plain `node` runs (no TypeScript step), for its test.

/** The server's folder, where its command runs. */
export declare const SERVER_DIR: string;
/** The folders whose changes restart the server, relative to SERVER_DIR. */
export declare function serverWatchPaths(): string[];
/** The server's command line under `pnpm dev`. */
export declare function serverCommand(): string;

import { createKeyValueRoutes } from "./key-value-service.js";

/** The routes the README's example imports, as examples-es names them: `connect.ts`, `(router) => void`. */
export default createKeyValueRoutes();

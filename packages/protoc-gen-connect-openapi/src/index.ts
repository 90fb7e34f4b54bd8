export { buildDocument, type DocumentOptions } from "./openapi-document.js";
export { protocGenConnectOpenapi } from "./openapi-plugin.js";

/**
 * Everything this package takes from connect-es's protocol subpaths
 * (`@connectrpc/connect/protocol`, `/protocol-connect`, `/protocol-grpc`,
 * `/protocol-grpc-web`). connect-es exports them for its own adapters and
 * says they do not follow semantic versioning, so they may change in any
 * release. Using them keeps the fast path's answers byte for byte
 * connect-node's (the same trailer serializer, the same error JSON, the same
 * timeout parser) instead of a copy that drifts. They are all imported
 * here, and `connect-internals.test.ts` pins each behaviour the package
 * relies on, so that an upgrade that changes one fails there first.
 */
export { getJsonOptions, mergeNonProtocolHeaders, type UniversalHandler } from "@connectrpc/connect/protocol";
export {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
  parseTimeout as parseConnectTimeout,
} from "@connectrpc/connect/protocol-connect";
export { parseTimeout as parseGrpcTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
export { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

export {
  createFastPath,
  createGrpcWebTextMode,
  type FastPath,
  type FastPathOptions,
  fastPathDefaults,
  type GrpcWebTextMode,
  type NodeRequest,
  type NodeResponse,
} from "./fast-path.js";
export { encodeGrpcMessage } from "./shared/envelopes.js";

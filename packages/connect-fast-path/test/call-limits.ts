import type { CallLimits } from "../src/call/limits.js";
import { responseEncodings } from "../src/wire/response-compression.js";

/**
 * The limits a test's engine runs under: connect-node's defaults where the
 * tests do not care, every protocol on, no gate, no budget; `overrides`
 * say what the test is about.
 */
export function testLimits(overrides: Partial<CallLimits> & Pick<CallLimits, "shutdownSignal">): CallLimits {
  return {
    readMaxBytes: 1024,
    writeMaxBytes: 1024,
    cors: { allowedOrigins: [], exposedHeaders: [] },
    interceptors: [],
    compressMinBytes: 1024,
    responseEncodings: responseEncodings(undefined),
    maxTimeoutMs: Number.MAX_SAFE_INTEGER,
    protocols: { grpc: true, grpcWeb: true, connect: true },
    requireConnectProtocolHeader: false,
    jsonOptions: {},
    binaryOptions: {},
    ...overrides,
  };
}

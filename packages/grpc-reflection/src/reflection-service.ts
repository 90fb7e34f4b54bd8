import { create, type DescService, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import {
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "@greeter/proto/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "@greeter/proto/grpc/reflection/v1alpha/reflection_pb.js";
import { createReflectionRegistry, type ReflectionRegistry } from "./reflection-registry.js";

export interface ReflectionOptions {
  /**
   * The services to describe. By default, every service registered on the
   * router at the time of the first reflection call — the reflection
   * services included — so nothing registered later in start-up is missed.
   */
  services?: () => Iterable<DescService>;
}

/**
 * Registers gRPC server reflection, `grpc.reflection.v1` and the older
 * `grpc.reflection.v1alpha` that many grpcurl releases still speak, on a
 * Connect router. Both answer from the same registry.
 */
export function addReflectionServices(router: ConnectRouter, options: ReflectionOptions = {}): void {
  const services = options.services ?? (() => router.handlers.map((h) => h.service));
  let registry: ReflectionRegistry | undefined;
  const getRegistry = (): ReflectionRegistry => {
    registry ??= createReflectionRegistry(services());
    return registry;
  };

  router.service(ServerReflection, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) {
        yield answer(getRegistry(), request, sent);
      }
    },
  });

  // v1alpha has the same messages under another package, so they are
  // wire-compatible: re-encoding lets one implementation serve both.
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) {
        const asV1 = fromBinary(
          ServerReflectionRequestSchema,
          toBinary(v1alpha.ServerReflectionRequestSchema, request),
        );
        const response = answer(getRegistry(), asV1, sent);
        yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(ServerReflectionResponseSchema, response));
      }
    },
  });
}

function answer(
  registry: ReflectionRegistry,
  request: ServerReflectionRequest,
  sent: Set<string>,
): ServerReflectionResponse {
  const respond = (
    messageResponse: MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"],
  ): ServerReflectionResponse =>
    create(ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse });
  const notFound = (what: string): ServerReflectionResponse =>
    respond({ case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } });
  const files = (file: ReturnType<ReflectionRegistry["fileByName"]>, what: string): ServerReflectionResponse =>
    file
      ? respond({
          case: "fileDescriptorResponse",
          value: { fileDescriptorProto: registry.serialize(file, sent) },
        })
      : notFound(what);

  const req = request.messageRequest;
  switch (req.case) {
    case "listServices":
      return respond({
        case: "listServicesResponse",
        value: { service: registry.serviceNames.map((name) => ({ name })) },
      });
    case "fileByFilename":
      return files(registry.fileByName(req.value), `file "${req.value}"`);
    case "fileContainingSymbol":
      return files(registry.fileContainingSymbol(req.value), `symbol "${req.value}"`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = req.value;
      return files(
        registry.fileContainingExtension(containingType, extensionNumber),
        `extension ${extensionNumber} of "${containingType}"`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = registry.extensionNumbersOf(req.value);
      return numbers
        ? respond({
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: req.value, extensionNumber: numbers },
          })
        : notFound(`type "${req.value}"`);
    }
    default:
      return respond({
        case: "errorResponse",
        value: { errorCode: Code.InvalidArgument, errorMessage: "the request names no reflection query" },
      });
  }
}

import { createRegistry, type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * What reflection knows: the services to list and every file that defines
 * them or that they depend on.
 */
export interface ReflectionRegistry {
  /** Fully-qualified names of the listed services, sorted. */
  readonly serviceNames: readonly string[];
  /** The file that defines a symbol: a message, enum, service, method, field or enum value. */
  fileContainingSymbol(symbol: string): DescFile | undefined;
  fileByName(name: string): DescFile | undefined;
  fileContainingExtension(extendee: string, fieldNumber: number): DescFile | undefined;
  /** The field numbers of every known extension of a message, or `undefined` if it is unknown. */
  extensionNumbersOf(typeName: string): number[] | undefined;
  /**
   * The serialized FileDescriptorProtos of `file` and of its transitive
   * dependencies, skipping files named in `alreadySent` (and adding the ones
   * it returns to it). The requested file always comes first, as grpc-go
   * sends it.
   */
  serialize(file: DescFile, alreadySent: Set<string>): Uint8Array[];
}

export function createReflectionRegistry(services: Iterable<DescService>): ReflectionRegistry {
  const byName = new Map<string, DescService>();
  for (const service of services) byName.set(service.typeName, service);
  // Keyed by the proto file name ("greeter/v1/greeter.proto"), as clients
  // ask for it; DescFile.name lacks the ".proto".
  const files = new Map<string, DescFile>();
  const addFile = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dep of file.dependencies) addFile(dep);
  };
  for (const service of byName.values()) addFile(service.file);
  const registry = createRegistry(...files.values());
  const encoded = new Map<string, Uint8Array>();

  const encode = (file: DescFile): Uint8Array => {
    let bytes = encoded.get(file.proto.name);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      encoded.set(file.proto.name, bytes);
    }
    return bytes;
  };

  function fileContainingSymbol(symbol: string): DescFile | undefined {
    const desc = registry.get(symbol);
    if (desc) return desc.file;
    // Members (methods, fields, enum values) are not in the registry by
    // name: look up their parent and check that the member exists.
    const dot = symbol.lastIndexOf(".");
    if (dot <= 0) return undefined;
    const parent = registry.get(symbol.slice(0, dot));
    const member = symbol.slice(dot + 1);
    switch (parent?.kind) {
      case "service":
        return parent.methods.some((m) => m.name === member) ? parent.file : undefined;
      case "message":
        return parent.fields.some((f) => f.name === member) ? parent.file : undefined;
      case "enum":
        return parent.values.some((v) => v.name === member) ? parent.file : undefined;
      default:
        return undefined;
    }
  }

  return {
    serviceNames: [...byName.keys()].sort(),
    fileContainingSymbol,
    fileByName: (name) => files.get(name),
    fileContainingExtension(extendee, fieldNumber) {
      const message = registry.getMessage(extendee);
      return message ? registry.getExtensionFor(message, fieldNumber)?.file : undefined;
    },
    extensionNumbersOf(typeName) {
      const message = registry.getMessage(typeName);
      if (!message) return undefined;
      const numbers: number[] = [];
      for (const desc of registry) {
        if (desc.kind === "extension" && desc.extendee.typeName === typeName) numbers.push(desc.number);
      }
      return numbers.sort((a, b) => a - b);
    },
    serialize(file, alreadySent) {
      const out: Uint8Array[] = [];
      const visit = (f: DescFile): void => {
        if (alreadySent.has(f.proto.name)) return;
        alreadySent.add(f.proto.name);
        out.push(encode(f));
        for (const dep of f.dependencies) visit(dep);
      };
      // The requested file goes out even if sent before: the client asked.
      alreadySent.delete(file.proto.name);
      visit(file);
      return out;
    },
  };
}

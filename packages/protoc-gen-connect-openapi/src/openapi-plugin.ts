import { create, createFileRegistry, type DescFile } from "@bufbuild/protobuf";
import {
  type CodeGeneratorRequest,
  CodeGeneratorResponse_Feature,
  CodeGeneratorResponseSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { getPackageComments, type Plugin } from "@bufbuild/protoplugin";
import { buildDocument, type DocumentOptions } from "./openapi-document.js";

/**
 * Plugin options, `opt:` in buf.gen.yaml:
 * - `title=…`   info.title (default: the proto package, e.g. "greeter.v1")
 * - `version=…` info.version (default: the package's version suffix, e.g. "v1", else "0")
 * - `package=…` describe only files of this proto package; repeat it for more
 *   (default: every file with a service)
 */
interface PluginOptions {
  title?: string;
  version?: string;
  packages: string[];
}

function parseOptions(parameter: string): PluginOptions {
  const options: PluginOptions = { packages: [] };
  for (const pair of parameter.split(",").filter((p) => p !== "")) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? "" : pair.slice(eq + 1);
    if (value === "") throw new Error(`option "${key}" needs a value, e.g. ${key}=…`);
    if (key === "package") options.packages.push(value);
    else if (key === "title" || key === "version") options[key] = value;
    else throw new Error(`unknown option "${key}": expected title, version or package`);
  }
  return options;
}

function documentOptions(file: DescFile, options: PluginOptions): DocumentOptions {
  const description = getPackageComments(file).leading?.trim();
  return {
    title: options.title ?? file.proto.package,
    version: options.version ?? /\.(v\d+\w*)$/.exec(file.proto.package)?.[1] ?? "0",
    ...(description ? { description } : {}),
  };
}

/** `foo/v1/foo.proto` → `foo/v1/foo.openapi.json`. */
function outputName(file: DescFile): string {
  return `${file.name}.openapi.json`;
}

export const protocGenConnectOpenapi: Plugin = {
  name: "protoc-gen-connect-openapi",
  version: "v1",
  run(request: CodeGeneratorRequest) {
    const options = parseOptions(request.parameter);
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: request.protoFile }));
    const file = request.fileToGenerate.flatMap((name) => {
      const desc = registry.getFile(name);
      if (desc === undefined) throw new Error(`${name} is not in the request`);
      if (desc.services.length === 0) return [];
      if (options.packages.length > 0 && !options.packages.includes(desc.proto.package)) return [];
      const document = buildDocument(desc.services, documentOptions(desc, options));
      return [{ name: outputName(desc), content: `${JSON.stringify(document, null, 2)}\n` }];
    });
    return create(CodeGeneratorResponseSchema, {
      supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
      file,
    });
  },
};

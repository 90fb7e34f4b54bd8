// `pnpm generate`, step 1: compiles proto/ into a Protobuf image (a
// FileDescriptorSet with every import and the comments), which `buf generate`
// then reads (buf.gen.yaml).
//
// Why not let buf compile proto/ itself: greeter.proto imports
// buf/validate/validate.proto (protovalidate's rules), which buf would fetch
// from the Buf Schema Registry — there is no network here, and the file is
// not ours to copy into the repository. @bufbuild/protovalidate ships that
// file's descriptor, so we hand it to protoc (Debian's protobuf-compiler) as
// a descriptor set, the way protoc resolves imports without sources.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The image, committed: `buf generate`, the tests' gRPC clients and grpcurl -protoset read it. */
export const IMAGE = join(ROOT, "packages/proto/descriptors/greeter.binpb");

/** A file and everything it imports, imports first, as protoc wants a descriptor set. */
function withDependencies(file: DescFile, seen = new Set<string>()): DescFile[] {
  if (seen.has(file.name)) return [];
  seen.add(file.name);
  return [...file.dependencies.flatMap((d) => withDependencies(d, seen)), file];
}

export function buildImage(protoRoot: string, out: string, files: readonly string[]): void {
  const dir = mkdtempSync(join(tmpdir(), "greeter-proto-"));
  try {
    const imports = join(dir, "imports.binpb");
    const set = create(FileDescriptorSetSchema, {
      file: withDependencies(file_buf_validate_validate).map((f) => f.proto),
    });
    writeFileSync(imports, toBinary(FileDescriptorSetSchema, set));
    execFileSync(
      "protoc",
      [
        `--descriptor_set_in=${imports}`,
        `--proto_path=${protoRoot}`,
        "--include_imports",
        "--include_source_info",
        `--descriptor_set_out=${out}`,
        ...files,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [protoRoot = join(ROOT, "proto"), out = IMAGE] = process.argv.slice(2);
  buildImage(protoRoot, out, ["greeter/v1/greeter.proto"]);
}

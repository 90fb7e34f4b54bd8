// `pnpm generate`, step 1: compiles proto/ into a Protobuf image (a
// FileDescriptorSet with every import and the comments), which `buf generate`
// then reads (buf.gen.yaml).
//
// Why not let buf compile proto/ itself: greeter.proto imports
// buf/validate/validate.proto (protovalidate's rules), which buf would fetch
// from the Buf Schema Registry — there is no network here, and the file is
// not ours to copy into the repository. @bufbuild/protovalidate ships that
// file's descriptor, so we hand it to protoc as a descriptor set, the way
// protoc resolves imports without sources.
//
// Same bytes on every machine: protoc is the one of the pinned grpcio-tools
// (scripts/tools.json), whose wrapper in .tools/bin puts the compiler's own
// copy of google/protobuf/*.proto on the proto path. validate.proto's imports
// (descriptor, duration, timestamp, field_mask) come from there too, with
// their comments, never from whatever else the machine has in /usr/include.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The image, committed: `buf generate`, the tests' gRPC clients and grpcurl -protoset read it. */
export const IMAGE = join(ROOT, "packages/proto/descriptors/greeter.binpb");

const PROTOC = join(ROOT, ".tools/bin/protoc");

export function buildImage(protoRoot: string, out: string, files: readonly string[]): void {
  const dir = mkdtempSync(join(tmpdir(), "greeter-proto-"));
  try {
    const imports = join(dir, "imports.binpb");
    const set = create(FileDescriptorSetSchema, {
      file: [file_buf_validate_validate.proto],
    });
    writeFileSync(imports, toBinary(FileDescriptorSetSchema, set));
    if (!existsSync(PROTOC)) {
      throw new Error(
        `${PROTOC} is missing: run \`node scripts/setup.mjs --test\` (installs the pinned grpcio-tools, see scripts/tools.json)`,
      );
    }
    execFileSync(
      PROTOC,
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

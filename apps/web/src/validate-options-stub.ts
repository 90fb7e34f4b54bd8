import { fileDesc } from "@bufbuild/protobuf/codegenv2";

/**
 * Stands in for protovalidate's buf/validate/validate.proto where the page's
 * generated Greeter code imports it (see vite.config.ts). The page reads no
 * validation rule (the server checks them), but the real file brings the
 * whole rule schema, about a quarter of the page's JavaScript. The Greeter
 * file only names it as a dependency: its rules are field options, kept as
 * bytes nobody here decodes. The error details (buf.validate.Violations)
 * come from the real file, loaded when an INVALID_ARGUMENT arrives (api.ts).
 */
// A FileDescriptorProto with only its name and package: "buf/validate/validate.proto", "buf.validate".
export const file_buf_validate_validate = fileDesc("ChtidWYvdmFsaWRhdGUvdmFsaWRhdGUucHJvdG8SDGJ1Zi52YWxpZGF0ZQ==");

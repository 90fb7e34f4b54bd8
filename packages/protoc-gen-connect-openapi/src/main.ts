#!/usr/bin/env node
// The executable that `buf generate` runs: see buf.gen.yaml.
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenConnectOpenapi } from "./openapi-plugin.js";

runNodeJs(protocGenConnectOpenapi);

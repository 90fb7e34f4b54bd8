import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

/** The repository's deploy/ directory. */
export const DEPLOY_DIR = fileURLToPath(new URL("../../../../deploy", import.meta.url));

export interface Manifest {
  /** Path under deploy/kubernetes, e.g. "base/deployment.yaml". */
  file: string;
  doc: { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith(".yaml") || name.endsWith(".yml") ? [path] : [];
  });
}

/** Every YAML document under deploy/kubernetes, kustomization files included; a YAML syntax error throws. */
export function loadManifests(): Manifest[] {
  const root = join(DEPLOY_DIR, "kubernetes");
  return yamlFiles(root).flatMap((path) =>
    parseAllDocuments(readFileSync(path, "utf8")).map((document) => {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
      return { file: relative(root, path), doc: document.toJS() as Manifest["doc"] };
    }),
  );
}

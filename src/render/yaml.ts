// YAML emission for cloud-init's files. cloud-init reads YAML 1.1 (PyYAML), where plain `on`,
// `no`, `0640` or `1_000` mean booleans and octal or odd numbers: emitting with the 1.1 schema
// makes the `yaml` package quote such strings. Keys keep insertion order, so output is stable.
//
// Written by yaml-emit.ts, which gives the same bytes as the `yaml` package without its node tree
// (issue 13); the package writes what that emitter leaves to it.
import { Document, isScalar, visit } from "yaml";
import { emitYaml } from "./yaml-emit.js";

/** Lists of plain values (packages, runcmd argument lists, addresses) read best on one line. */
export function toCloudYaml(value: unknown): string {
  return emitYaml(value, { flowScalarLists: true }) ?? packageCloudYaml(value);
}

/** toCloudYaml by the `yaml` package. */
export function packageCloudYaml(value: unknown): string {
  const doc = new Document(value, { version: "1.1", aliasDuplicateObjects: false });
  visit(doc, {
    Seq(_, node) {
      if (node.items.length > 0 && node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return doc.toString({
    lineWidth: 0,
    minContentWidth: 0,
    indent: 2,
    indentSeq: true,
    blockQuote: "literal",
  });
}

/** A "# …" comment line per line of text. */
export function yamlComments(...lines: string[]): string {
  return lines.map((line) => `# ${line}\n`).join("");
}

/**
 * YAML for Kubernetes manifests, in kubectl's block style. The kubelet reads YAML through
 * sigs.k8s.io/yaml, which treats `on`/`no`/`0640` like YAML 1.1 does: the 1.1 schema quotes them.
 */
export function toManifestYaml(value: unknown): string {
  return emitYaml(value, { flowScalarLists: false }) ?? packageManifestYaml(value);
}

/** toManifestYaml by the `yaml` package. */
export function packageManifestYaml(value: unknown): string {
  return new Document(value, { version: "1.1", aliasDuplicateObjects: false }).toString({
    lineWidth: 0,
    minContentWidth: 0,
    indent: 2,
    indentSeq: true,
  });
}

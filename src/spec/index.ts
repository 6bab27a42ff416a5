// The spec stage as one call: load → shape (zod) → semantic checks. Collects every finding.
import { sha256 } from "../write/hash.js";
import { checkSpec, type Env } from "./check.js";
import { hasErrors, type Finding } from "./findings.js";
import { loadSpecFile, parseSpecText, type LoadedSpec } from "./load.js";
import { specSchema, type Spec } from "./schema.js";
import { checkRequirements, type SpecRequirement } from "./requirements.js";
import { schemaFindings } from "./schema-findings.js";

export type { SpecRequirement } from "./requirements.js";
export { loadSpecFile, STDIN, STDIN_NAME } from "./load.js";

export interface CheckedSpec {
  file: string;
  /** Present only when the spec has no errors. */
  spec?: Spec;
  /**
   * The spec when its shape is right, even if semantic checks failed: for `rehearse
   * --accept-invalid`, which runs a spec the checks reject to show why they reject it.
   */
  parsed?: Spec;
  findings: Finding[];
  /** sha256 of the file's bytes as read, recorded in manifests and image records. */
  sha256: string;
}

export async function loadSpec(
  file: string,
  env: Env,
  requires: readonly SpecRequirement[] = [],
): Promise<CheckedSpec> {
  return checkLoaded(await loadSpecFile(file), env, requires);
}

export function checkSpecText(
  file: string,
  text: string,
  env: Env,
  requires: readonly SpecRequirement[] = [],
): CheckedSpec {
  return checkLoaded(parseSpecText(file, text), env, requires);
}

/** The checks of a spec already read (validate reads once, and may check twice). */
export function checkLoaded(loaded: LoadedSpec, env: Env, requires: readonly SpecRequirement[]): CheckedSpec {
  const base = { file: loaded.file, sha256: sha256(loaded.text) };
  if (hasErrors(loaded.findings)) return { ...base, findings: loaded.findings };
  const parsed = specSchema.safeParse(loaded.value);
  if (!parsed.success) {
    return {
      ...base,
      findings: [...loaded.findings, ...schemaFindings(parsed.error.issues, loaded.locator, loaded.value)],
    };
  }
  const findings = [
    ...loaded.findings,
    ...checkSpec(parsed.data, loaded.locator, env),
    ...checkRequirements(parsed.data, loaded.locator, requires),
  ];
  const shaped = { ...base, parsed: parsed.data, findings };
  return hasErrors(findings) ? shaped : { ...shaped, spec: parsed.data };
}

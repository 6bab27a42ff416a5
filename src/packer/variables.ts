// Packer `variable` blocks: a value with its type, default, description and an optional rule.
// Shared by the builders' sources (virtualbox.ts, and others beside it) and the template around them.
import { attr, blank, block, expr, type HclBodyItem, type HclValue } from "./hcl.js";

export interface Variable {
  name: string;
  type: string;
  default: HclValue;
  description: string;
  /** A validation rule: [condition, error message]. Packer 1.6.6 has no regex(), and
   * can(regex(…)) is silently false there, so conditions use substr/length/comparisons. */
  rule?: [string, string];
}

/** `var.<name>` as an expression. */
export const v = (name: string) => expr(`var.${name}`);

function validation(condition: string, message: string): HclBodyItem {
  return block("validation", [], [attr("condition", expr(condition)), attr("error_message", message)]);
}

export function variableBlocks(variables: readonly Variable[]): HclBodyItem[] {
  return variables.flatMap((variable, i) => [
    ...(i > 0 ? [blank] : []),
    block(
      "variable",
      [variable.name],
      [
        attr("type", expr(variable.type)),
        attr("default", variable.default),
        attr("description", variable.description),
        ...(variable.rule ? [validation(...variable.rule)] : []),
      ],
    ),
  ]);
}

/**
 * iso_url and iso_checksum: what the build starts from (an installer ISO, or a cloud image). The
 * checksum must be pinned: Debian's Packer 1.6.6 fetches a `file:` checksum URL during validate.
 */
export function sourceImageVariables(url: string, checksum: string, description: string): Variable[] {
  return [
    { name: "iso_url", type: "string", default: url, description },
    {
      name: "iso_checksum",
      type: "string",
      default: checksum,
      description: "Checksum of iso_url, pinned so that validate needs no network.",
      rule: [
        '(substr(var.iso_checksum, 0, 7) == "sha256:" && length(var.iso_checksum) == 71) || ' +
          '(substr(var.iso_checksum, 0, 7) == "sha512:" && length(var.iso_checksum) == 135)',
        "The iso_checksum must be pinned as sha256:<hex> or sha512:<hex>, not fetched from a file: URL.",
      ],
    },
  ];
}

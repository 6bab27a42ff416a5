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
    block("variable", [variable.name], [
      attr("type", expr(variable.type)),
      attr("default", variable.default),
      attr("description", variable.description),
      ...(variable.rule ? [validation(...variable.rule)] : []),
    ]),
  ]);
}

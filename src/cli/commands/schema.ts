import { toJSONSchema } from "zod";
import { specSchema } from "../../spec/schema.js";
import { stdout } from "../../terminal.js";

/** The JSON Schema of the spec as users write it (defaults are optional), for editors. */
export function specJsonSchema(): Record<string, unknown> {
  return {
    ...toJSONSchema(specSchema, { io: "input", target: "draft-2020-12" }),
    title: "k8s-ha Cluster spec (k8s-ha/v1alpha1)",
  };
}

export function runSchema(): void {
  stdout.write(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
}

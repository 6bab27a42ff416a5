// zod, as every module of k8s-ha imports it: configured before any schema is built.
//
// jitless (issue 13): on first use, zod compiles a parser per object schema with `new Function`,
// which V8's code cache cannot keep, so every run paid it for the one or two parses it makes;
// interpreting is ~10 ms faster for a spec check. zod reads the setting when a schema is built,
// which is why it is set here, in the module the schema modules import zod from.
//
// Only what k8s-ha calls, passed on by name (issue 13): zod's `z` namespace holds every export
// (JSON Schema conversion both ways, z.compile, ...), and a bundler keeps all of a namespace that
// is handed on as a value. Reading the builders off it by name lets esbuild drop the rest: render's
// bundle went from 592 to 443 KB, and loading it from ~70 to ~37 ms. A schema builder k8s-ha starts to use is added here; `schema`
// imports toJSONSchema from zod itself.
import * as zod from "zod";

zod.config({ jitless: true });

export const z = {
  array: zod.array,
  boolean: zod.boolean,
  enum: zod.enum,
  int: zod.int,
  literal: zod.literal,
  looseObject: zod.looseObject,
  number: zod.number,
  object: zod.object,
  record: zod.record,
  strictObject: zod.strictObject,
  string: zod.string,
  union: zod.union,
  url: zod.url,
};
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace z {
  export type infer<T> = zod.infer<T>;
  export type input<T> = zod.input<T>;
  export type output<T> = zod.output<T>;
}

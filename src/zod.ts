// zod, as every module of k8s-ha imports it: configured before any schema is built.
//
// jitless (issue 13): on first use, zod compiles a parser per object schema with `new Function`,
// which V8's code cache cannot keep, so every run paid it for the one or two parses it makes;
// interpreting is ~10 ms faster for a spec check. zod reads the setting when a schema is built,
// which is why it is set here, in the module the schema modules import zod from.
import { z } from "zod";

z.config({ jitless: true });

export { z };

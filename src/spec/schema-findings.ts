// Turns zod's issues into findings written for people: what is wrong, where, and what to write
// instead — including "did you mean" for misspelt keys, which YAML would otherwise accept silently.
import type { z } from "zod";
import type { Finding, Locator, SpecPath } from "./findings.js";
import { parse } from "yaml";
import { MIN_WEIGHT } from "./failover.js";
import { API_VERSION, KIND, specSchema } from "./schema.js";
import { STARTER_SPEC } from "./starter.js";

type Issue = z.core.$ZodIssue;

export function schemaFindings(issues: readonly Issue[], locator: Locator, input: unknown): Finding[] {
  const findings = issues.flatMap((issue) => describe(issue, locator, input));
  // "unknown field 'vipp' — did you mean 'vip'?" already covers "missing required field 'vip'"
  const guessed = new Set(
    findings.flatMap((f) => {
      const guess = /^did you mean '(.+)'\?$/.exec(f.hint ?? "")?.[1];
      return guess ? [JSON.stringify([...f.path.slice(0, -1), guess])] : [];
    }),
  );
  return findings.filter(
    (f) => !(f.message.startsWith("missing required field") && guessed.has(JSON.stringify(f.path))),
  );
}

function describe(issue: Issue, locator: Locator, input: unknown): Finding[] {
  return describeIssue(issue, locator, input).map((f) => (f.hint ? f : { ...f, ...exampleHint(f.path) }));
}

function describeIssue(issue: Issue, locator: Locator, input: unknown): Finding[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const last = path[path.length - 1];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const known = knownKeys(path);
        const guess = closest(key, known);
        return locator.finding(
          "error",
          [...path, key],
          `unknown field '${key}'`,
          guess ? `did you mean '${guess}'?` : known.length ? `known fields here: ${known.join(", ")}` : undefined,
          { key: true },
        );
      });
    case "invalid_type": {
      const present = valueAt(input, path) !== undefined;
      if (!present) {
        return [locator.error(path, `missing required field '${String(last)}'`, requiredHint(path))];
      }
      return [locator.error(path, `must be ${article(issue.expected)}, not ${typeName(valueAt(input, path))}`)];
    }
    case "invalid_value": {
      if (path.length === 1 && last === "apiVersion") {
        return [
          locator.error(
            path,
            `unknown apiVersion ${JSON.stringify(valueAt(input, path))}`,
            `this k8s-ha reads apiVersion: ${API_VERSION}`,
          ),
        ];
      }
      if (path.length === 1 && last === "kind") {
        return [
          locator.error(path, `unknown kind ${JSON.stringify(valueAt(input, path))}`, `the only kind is ${KIND}`),
        ];
      }
      const options = issue.values.map((v) => JSON.stringify(v)).join(", ");
      return [locator.error(path, `must be one of ${options}`)];
    }
    case "too_small":
    case "too_big": {
      if (issue.code === "too_big" && last === "weight" && issue.maximum === 0) {
        return [
          locator.error(
            path,
            `a positive weight (${preview(valueAt(input, path))}) raises the priority of a node whose check fails: the VIP would cling to the broken node`,
            "use weight: auto, or a negative integer",
          ),
        ];
      }
      const bound = issue.code === "too_small" ? "at least" : "at most";
      const limit = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
      const what =
        issue.origin === "array"
          ? `must have ${bound} ${limit} entr${limit === "1" ? "y" : "ies"}`
          : issue.origin === "string"
            ? `must be ${bound} ${limit} characters long`
            : `must be ${bound} ${limit}`;
      // a list is counted, not printed: 17 nodes would fill the screen
      const value = valueAt(input, path);
      return [locator.error(path, `${what} (got ${Array.isArray(value) ? `${value.length}` : preview(value)})`)];
    }
    case "invalid_union":
      if (last === "weight") {
        return [
          locator.error(
            path,
            `must be "auto" or an integer from ${MIN_WEIGHT} to 0 (got ${preview(valueAt(input, path))})`,
          ),
        ];
      }
      // firewall.allow entries: the string form or the {port, from} form
      return [
        locator.error(
          path,
          `must be a rule like "8472/udp" or {port: "8472/udp", from: 192.168.56.0/24} (got ${preview(valueAt(input, path))})`,
        ),
      ];
    default:
      return [locator.error(path, `${issue.message} (got ${preview(valueAt(input, path))})`)];
  }
}

let starter: unknown;

/** "e.g. port: 6443", taken from the commented starter spec, for fields it shows. */
function exampleHint(path: SpecPath): { hint?: string } {
  starter ??= parse(STARTER_SPEC);
  const key = [...path].reverse().find((p): p is string => typeof p === "string");
  const example = valueAt(
    starter,
    path.map((p) => (typeof p === "number" ? 0 : p)),
  );
  if (
    key === undefined ||
    example === undefined ||
    (typeof example === "object" && example !== null && !Array.isArray(example))
  ) {
    return { hint: "`k8s-ha init` writes a commented example of every field; `k8s-ha schema` prints the full format" };
  }
  return { hint: `for example: ${key}: ${JSON.stringify(example)}` };
}

function valueAt(input: unknown, path: SpecPath): unknown {
  let value = input;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number" && !Number.isInteger(value)) return `the number ${value}`;
  return `${typeof value} ${preview(value)}`;
}

function article(expected: string): string {
  if (expected === "object") return "a mapping";
  if (expected === "array") return "a list";
  if (expected === "int" || expected === "number") return "an integer";
  if (expected === "boolean") return "true or false";
  return `a ${expected}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function requiredHint(path: SpecPath): string | undefined {
  const key = path.join(".");
  const examples: Record<string, string> = {
    apiVersion: `apiVersion: ${API_VERSION}`,
    kind: `kind: ${KIND}`,
    metadata: "metadata: {name: lab}",
    "metadata.name": "name: lab",
    spec: "spec: with vip, network and nodes",
    "spec.vip": "vip: 10.0.2.100",
    "spec.network": "network: {interface: enp0s8, prefixLength: 24}",
    // the cluster NIC: in the common VirtualBox lab enp0s8 (host-only); enp0s3 is the NAT adapter
    "spec.network.interface": "interface: enp0s8 (the NIC on the nodes' subnet)",
    "spec.network.prefixLength": "prefixLength: 24",
    "spec.nodes": "nodes: [{name: master01, address: 10.0.2.10}]",
  };
  if (examples[key]) return `add ${examples[key]}`;
  const field = path[path.length - 1];
  if (field === "name") return "every entry needs a name";
  if (field === "address") return "every node needs its IPv4 address";
  return undefined;
}

/** The keys the schema allows at `path` (a mapping), for "did you mean". */
function knownKeys(path: SpecPath): string[] {
  let schema: unknown = specSchema;
  for (const part of path) {
    schema = unwrap(schema);
    const def = (schema as { _zod?: { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } } })
      ._zod?.def;
    if (def?.type === "object" && typeof part === "string") schema = def.shape?.[part];
    else if (def?.type === "array") schema = def.element;
    else return [];
  }
  const def = (unwrap(schema) as { _zod?: { def?: { type?: string; shape?: Record<string, unknown> } } })?._zod?.def;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: unknown): unknown {
  let current = schema as { _zod?: { def?: { type?: string; innerType?: unknown } } } | undefined;
  while (current?._zod?.def && ["default", "prefault", "optional", "nullable"].includes(current._zod.def.type ?? "")) {
    current = current._zod.def.innerType as typeof current;
  }
  return current;
}

/** The known key nearest to `key` by edit distance, if it is close enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

// Pure: the plan and the rendered artifacts in, one seed ISO artifact per node out. The ISO holds
// exactly the bytes of the rendered user-data, meta-data and network-config, under volume id
// `cidata` (what cloud-init's NoCloud datasource looks for), dated by date.ts.
import { isoToBuffer } from "../iso/buffer.js";
import type { IsoFile } from "../iso/types.js";
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { artifactBytes, type Artifact } from "../render/artifact.js";
import { instanceId } from "../render/meta-data.js";
import { NODE_FILES, nodeDir } from "../render/paths.js";
import { UsageError } from "../errors.js";
import { derivedSeedDate } from "./date.js";

/** NoCloud accepts `cidata` or `CIDATA`; cloud-localds writes the lower-case one. */
export const SEED_VOLUME_ID = "cidata";
export const SEED_MODE = 0o644;

/** The files of a seed, by their name inside the ISO. */
const SEED_FILES = [NODE_FILES.userData, NODE_FILES.metaData, NODE_FILES.networkConfig] as const;

export interface Seed {
  node: string;
  /** Where the ISO goes, relative to the output directory: nodes/<node>/seed.iso. */
  path: string;
  instanceId: string;
  /** Every timestamp in the image; blkid's UUID follows from it. */
  date: Date;
  contents: Uint8Array;
}

export interface SeedOptions {
  /** Only these nodes (default: every node). Unknown names are a UsageError. */
  nodes?: readonly string[];
  /** SOURCE_DATE_EPOCH, when set: used for every seed instead of the derived dates. */
  date?: Date;
}

export function seedPath(node: string): string {
  return `${nodeDir(node)}/${NODE_FILES.seedIso}`;
}

/** The nodes to seed; throws UsageError naming the known nodes when a name is unknown. */
export function selectNodes(plan: ClusterPlan, names: readonly string[] | undefined): NodePlan[] {
  if (names === undefined) return plan.nodes;
  const known = plan.nodes.map((n) => n.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `no node named ${unknown.map((n) => JSON.stringify(n)).join(", ")} in cluster ${plan.name}; nothing was written`,
      `--node takes one of: ${known.join(", ")}`,
    );
  }
  return plan.nodes.filter((n) => names.includes(n.name));
}

function renderedText(rendered: ReadonlyMap<string, Artifact>, path: string): Uint8Array {
  const artifact = rendered.get(path);
  if (!artifact) throw new Error(`internal error: ${path} was not rendered`);
  return artifactBytes(artifact.contents);
}

/** NoCloud is cloud-init's: Ignition targets (Fedora CoreOS, Flatcar) never read a cidata ISO. */
function assertCloudInitTarget(plan: ClusterPlan): void {
  if (plan.target.provisioning === "cloud-init") return;
  throw new UsageError(
    `cluster ${plan.name} targets ${plan.target.os}, which is provisioned by Ignition and does not read NoCloud seed ISOs; nothing was written`,
    "run `k8s-ha render` and give each node its nodes/<node>/config.ign (docs/spec.md: Booting Fedora CoreOS / Flatcar in VirtualBox)",
  );
}

/** Builds the seed of each selected node from the rendered artifacts (render/index.ts renderNodes). */
export function buildSeeds(plan: ClusterPlan, rendered: readonly Artifact[], options: SeedOptions = {}): Seed[] {
  assertCloudInitTarget(plan);
  const byPath = new Map(rendered.map((a) => [a.path, a]));
  return selectNodes(plan, options.nodes).map((node) => {
    const dir = nodeDir(node.name);
    const files: IsoFile[] = SEED_FILES.map((name) => ({ name, source: renderedText(byPath, `${dir}/${name}`) }));
    const text = (name: string) => Buffer.from(renderedText(byPath, `${dir}/${name}`)).toString("utf8");
    const id = instanceId(plan, node, text(NODE_FILES.userData), text(NODE_FILES.networkConfig));
    const date = options.date ?? derivedSeedDate(id);
    return {
      node: node.name,
      path: seedPath(node.name),
      instanceId: id,
      date,
      contents: isoToBuffer(files, { volumeId: SEED_VOLUME_ID, date }),
    };
  });
}

export function seedArtifacts(seeds: readonly Seed[]): Artifact[] {
  return seeds.map((seed) => ({ path: seed.path, contents: seed.contents, mode: SEED_MODE }));
}

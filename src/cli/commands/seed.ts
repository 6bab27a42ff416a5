// `k8s-ha seed`: everything `render` writes plus nodes/<node>/seed.iso, in one write, so the
// manifest lists the seeds. `--node NAME` rewrites only that node's files and seed; every other
// file stays as it is, and the manifest still describes every node (src/cli/partial-write.ts).
// `--bundle` adds DIR/<cluster>-seeds.tar.gz (src/seed/bundle.ts explains why the manifest does
// not list it); without it, a bundle left by an earlier run is left alone too.
import { join, resolve } from "node:path";
import { renderNodes } from "../../render/index.js";
import { blkidUuid, parseSourceDateEpoch } from "../../seed/date.js";
import { buildSeeds, seedArtifacts, SEED_VOLUME_ID, selectNodes } from "../../seed/seed-artifacts.js";
import type { Artifact } from "../../render/artifact.js";
import { imageRecordPath, readImageRecord } from "../../packer/record.js";
import { commandLine, showVmInfoArgs, storageAttachArgs, VBOX_DEFAULT_CONTROLLER } from "../../seed/vbox.js";
import { sha256 } from "../../write/hash.js";
import { byteLength } from "../../write/manifest.js";
import { clusterFiles } from "../../pipeline/artifacts.js";
import { compileSpec } from "../compile.js";
import { rewriteFilter, writePartial } from "../partial-write.js";
import { stderr, stdout } from "../../terminal.js";

export interface SeedCommandOptions {
  output: string;
  node?: string;
  bundle?: boolean;
  json?: boolean;
}

export async function runSeed(spec: string | undefined, options: SeedCommandOptions): Promise<void> {
  // Both checks come before anything is written: a bad SOURCE_DATE_EPOCH or node name is a
  // usage error, and a user error writes nothing.
  const sourceDate = parseSourceDateEpoch(process.env.SOURCE_DATE_EPOCH);
  const compiled = await compileSpec(spec);
  const { plan } = compiled;
  const nodes = renderNodes(plan);
  if (options.node !== undefined) selectNodes(plan, [options.node]);
  // every node's seed, to tell which seeds already on disk are this spec's; only --node's is written
  const allSeeds = buildSeeds(plan, nodes, sourceDate ? { date: sourceDate } : {});
  const seeds = allSeeds.filter((seed) => options.node === undefined || seed.node === options.node);
  const isos = seedArtifacts(seeds);
  const expected = clusterFiles(compiled, seedArtifacts(allSeeds), nodes);
  const rewrite = rewriteFilter(options.node);
  // the bundle packs the manifest and the seeds written in this run; it is not listed itself
  let bundle: Artifact | undefined;
  const { written, manifest } = await writePartial(options.output, compiled, expected, rewrite, async (manifest) => {
    if (!options.bundle) return [];
    // loaded only for --bundle: tar-stream and zlib are ~60 KB of code a plain seed never runs (issue 13)
    const { bundleArtifact } = await import("../../seed/bundle.js");
    bundle = await bundleArtifact(plan.name, [manifest, ...isos], sourceDate);
    return [bundle];
  });
  const bundleSha256 = bundle ? sha256(bundle.contents) : undefined;
  const artifacts = [...written, manifest];

  const out = resolve(options.output);
  // The controller the baked OVA has, when build-image recorded it in this output folder.
  const recordPath = imageRecordPath(out, plan.image);
  const recorded = readImageRecord(recordPath)?.storageController;
  const controller = recorded ?? VBOX_DEFAULT_CONTROLLER;
  const report = seeds.map((seed) => {
    const absolute = join(out, seed.path);
    const attach = storageAttachArgs(seed.node, absolute, controller);
    return {
      node: seed.node,
      path: seed.path,
      absolutePath: absolute,
      sha256: sha256(seed.contents),
      size: seed.contents.byteLength,
      volumeId: SEED_VOLUME_ID,
      instanceId: seed.instanceId,
      date: seed.date.toISOString(),
      blkidUuid: blkidUuid(seed.date),
      attach,
      showVmInfo: showVmInfoArgs(seed.node),
    };
  });

  const log = (line: string) => stderr.write(`${line}\n`);
  log(
    `seeded ${seeds.length} of ${plan.nodes.length} node(s) of cluster ${plan.name} into ${options.output}` +
      ` (${artifacts.length} files${sourceDate ? `, dated SOURCE_DATE_EPOCH ${sourceDate.toISOString()}` : ""})`,
  );
  for (const seed of report) {
    log(`  ${seed.path}  instance-id ${seed.instanceId}, UUID ${seed.blkidUuid}`);
  }
  if (bundle) log(`  ${bundle.path}  sha256 ${bundleSha256} (the manifest and ${seeds.length} seed(s))`);
  if (!options.json) {
    // the attach commands are data (a script may run them): stdout; the prose around them: stderr
    log(
      recorded
        ? `attach each seed to its VM (powered off) before its first boot; storage controller "${controller}" as recorded in ${recordPath}:`
        : `attach each seed to its VM (powered off) before its first boot; storage controller "${controller}" assumed (no image record at ${recordPath}):`,
    );
    for (const seed of report) stdout.write(`${commandLine(seed.attach)}\n`);
    log(
      'VirtualBox may name the controller differently ("IDE" after an OVA import); the VM\'s own names are its storagecontrollername<N> lines:',
    );
    for (const seed of report) log(`  ${commandLine(seed.showVmInfo)}`);
  } else {
    const result = {
      cluster: plan.name,
      output: out,
      storageController: { name: controller, from: recorded ? "image record" : "default", record: recordPath },
      seeds: report,
      bundle: bundle
        ? {
            path: bundle.path,
            absolutePath: join(out, bundle.path),
            sha256: bundleSha256,
            size: byteLength(bundle.contents),
          }
        : null,
    };
    stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  }
}

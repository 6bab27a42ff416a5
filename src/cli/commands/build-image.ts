// build-image: bake the golden image with Packer from the spec's rendered template; with
// --publish, then share it like `k8s-ha publish` does. The store is asked before the bake (one
// read of the catalogue), so a missing bucket, refused credentials or a version published already
// stop the command before Packer runs, not half an hour later.
import { relative } from "node:path";
import { buildImage } from "../../packer/build-image.js";
import { imageRecordPath } from "../../packer/record.js";
import { EXIT, ExitError, UsageError } from "../../errors.js";
import type { S3Spec } from "../../spec/schema.js";
import { STDIN, STDIN_NAME } from "../../spec/load.js";
import { INSTALLER_ISOS } from "../../spec/targets.js";
import { compileSpec, publishTarget } from "../compile.js";
import { stderr, stdout } from "../../terminal.js";

export interface BuildImageCommandOptions {
  output: string;
  dryRun?: boolean;
  force?: boolean;
  publish?: boolean;
  json?: boolean;
}

export async function runBuildImage(specPath: string | undefined, options: BuildImageCommandOptions): Promise<void> {
  const compiled = await compileSpec(specPath, {
    requires: options.publish ? ["publish"] : [],
    nothingDone: options.publish ? "nothing was baked or published" : "nothing was written",
  });
  const { target } = compiled.plan;
  if (target.provisioning !== "cloud-init") {
    throw new UsageError(
      `cluster ${compiled.plan.name} targets ${target.os}: build-image bakes the Ubuntu and Debian golden images only; nothing was written`,
      "Fedora CoreOS and Flatcar nodes boot their distribution's own image with nodes/<node>/config.ign from `k8s-ha render`",
    );
  }
  if (compiled.plan.image.builder === "virtualbox" && !INSTALLER_ISOS[target.os]) {
    throw new UsageError(
      `cluster ${compiled.plan.name} targets ${target.os}: the VirtualBox build installs Ubuntu from its live-server ISO, and ${target.os} has none; nothing was written`,
      `set spec.image.builder: qemu to bake a qcow2 from ${target.os}'s cloud image, or use ${Object.keys(INSTALLER_ISOS).join(", ")} for a VirtualBox image`,
    );
  }
  const force = options.force ?? false;
  let publishTo: { s3: S3Spec; catalogueUrl: string } | undefined;
  if (options.publish) {
    // imported only for --publish: the AWS SDK is large, and a plain bake never needs it
    const { preflightPublish } = await import("../../publish/preflight.js");
    const s3 = publishTarget(compiled);
    publishTo = {
      s3,
      catalogueUrl: await preflightPublish({ s3, image: compiled.plan.image, outDir: options.output, force }),
    };
  }
  const record = await buildImage({
    outDir: options.output,
    specSha256: compiled.sha256,
    clusterName: compiled.plan.name,
    image: compiled.plan.image,
    os: target.os,
    assets: compiled.assets.packer,
    ...(compiled.plan.kubernetes ? { kubernetes: { version: compiled.plan.kubernetes.version } } : {}),
    dryRun: options.dryRun ?? false,
    renderCommand: ["k8s-ha", "render", compiled.file === STDIN_NAME ? STDIN : compiled.file, "-o", options.output],
    force,
    stderr: stderr.stream(),
    stdout: stdout.stream(),
  });
  if (record)
    stderr.write(
      `image ${record.name} ${record.version}: ${record.file} (${record.size} bytes, sha256 ${record.sha256})\n`,
    );
  if (!publishTo) {
    if (record && options.json) stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return;
  }
  if (!record) {
    stderr.write(
      `--dry-run: would then publish ${compiled.plan.image.name} ${compiled.plan.image.version} and list it in ${publishTo.catalogueUrl}\n`,
    );
    return;
  }

  const { publishImage } = await import("../../publish/publish.js");
  try {
    const result = await publishImage({
      outDir: options.output,
      s3: publishTo.s3,
      cluster: compiled.spec.metadata.name,
      image: compiled.plan.image,
      force,
    });
    if (options.json) stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    // The bake is not lost: say where the image is and how to publish it alone.
    if (error instanceof ExitError && error.code !== EXIT.interrupted) {
      const where = relative(process.cwd(), imageRecordPath(options.output, compiled.plan.image));
      stderr.write(
        `the image is baked and recorded in ${where}: \`k8s-ha publish ${compiled.file} -o ${options.output}\` publishes it without baking again\n`,
      );
    }
    throw error;
  }
}

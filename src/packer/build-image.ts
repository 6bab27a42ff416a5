// `k8s-ha build-image`: bakes the golden image with Packer and records it.
//   skip if the image record matches the template fingerprint (unless --force)
//   → preflight (Packer; VirtualBox, or qemu and its accelerator) → write DIR/packer/
//   → packer init (>= 1.7) → validate → build (the image checks run in the build VM)
//   → image found from Packer's artifact lines → sha256 → DIR/images/<name>-<version>.ova|.qcow2 + .json
// Packer writes into a staging folder inside DIR/images; only a finished, checksummed image is
// moved into place, so a failure or a Ctrl-C leaves nothing half-written behind.
import { mkdir, rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { ExternalError, InterruptedError } from "../errors.js";
import type { Artifact } from "../render/artifact.js";
import type { ImageSpec } from "../spec/schema.js";
import type { TargetOs } from "../spec/targets.js";
import { ImageCheckCollector } from "./image-check.js";
import { qemuPreflight, type QemuHost } from "./qemu-host.js";
import { checkReachable, sourceImage } from "./source-image.js";
import { loadPackerAssets } from "./assets.js";
import { hashFile } from "../write/hash.js";
import { moveFile, removeStaleStaging, stagingDir, writeTemplate } from "./files.js";
import { templateFingerprint } from "./fingerprint.js";
import { ovaIdeController } from "./ova.js";
import { watchInterrupts, which, type InterruptScope } from "../tools/run.js";
import { packerEnv, packerVersion, preflight, supportsPlugins } from "./preflight.js";
import { createProgress, type Progress } from "./progress.js";
import { IMAGES_DIR, imageRecordPath, imageStem, isUpToDate, readImageRecord, type ImageRecord } from "./record.js";
import { PACKER_DIR, PACKER_MAIN_FILE, renderPacker, type PackerAssets } from "./render.js";
import { packerCommands, runPacker, shellQuote, type PackerRunResult } from "./runner.js";
import { writeFileAtomic } from "../write/atomic.js";

export interface BuildImageOptions {
  /** The output folder of `render` (DIR of `-o DIR`). */
  outDir: string;
  /** sha256 of the spec file, for the image record. */
  specSha256: string;
  clusterName: string;
  image: ImageSpec;
  /** spec.target.os (default ubuntu-20.04): the installer ISO (VirtualBox) or cloud image (qemu), the checked versions. */
  os?: TargetOs;
  dryRun?: boolean;
  force?: boolean;
  /** The Packer binary (default "packer" on PATH); tests point it elsewhere. */
  packer?: string;
  /** Check for the builder's hypervisor before building: VBoxManage, or qemu (default true; tests
   * with the null builder turn it off). */
  requireVirtualBox?: boolean;
  /** Progress and logs. */
  stderr: NodeJS.WritableStream;
  /** Where --dry-run prints the Packer commands (default: stderr). */
  stdout?: NodeJS.WritableStream;
  /** --dry-run: the command that writes the template folder, printed before Packer's. */
  renderCommand?: readonly string[];
  /** --dry-run: how long a web server gets to answer for the ISO or cloud image (default 10 s). */
  reachTimeoutMs?: number;
  /** Aborting it acts as Ctrl-C. SIGINT and SIGTERM of this process are handled too. */
  signal?: AbortSignal;
  /** Environment for Packer (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Force the live display on or off (default: whether stderr is a TTY). */
  tty?: boolean;
  /** Build these files instead of the golden-image template (tests: null/file builders). Paths under packer/. */
  template?: { artifacts: Artifact[]; mainFile: string };
  /** The template's static files, when the caller has read them already (default: read them). */
  assets?: PackerAssets;
  /** spec.kubernetes: the image also gets containerd, kubeadm, kubelet and kubectl of this release. */
  kubernetes?: { version: string };
}

/**
 * Bakes the image, or skips it when up to date. Returns the image record; undefined for --dry-run.
 * Throws ExternalError (exit 3) when Packer or VirtualBox is missing or the build fails, and
 * InterruptedError (exit 130) after a Ctrl-C, once Packer has stopped and the staging is gone.
 */
export async function buildImage(options: BuildImageOptions): Promise<ImageRecord | undefined> {
  const outDir = resolve(options.outDir);
  const progress = createProgress({ stream: options.stderr, tty: options.tty });
  try {
    const template = options.template ?? {
      artifacts: renderPacker({
        clusterName: options.clusterName,
        image: options.image,
        os: options.os ?? "ubuntu-20.04",
        assets: options.assets ?? (await loadPackerAssets()),
        ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}),
      }),
      mainFile: PACKER_MAIN_FILE,
    };
    const fingerprint = templateFingerprint(template.artifacts);
    const stem = imageStem(options.image);
    const recordPath = imageRecordPath(outDir, options.image);

    if (!options.force) {
      const existing = readImageRecord(recordPath);
      if (existing && isUpToDate(recordPath, existing, fingerprint)) {
        progress.info(
          `${stem} is up to date: ${relative(process.cwd(), recordPath) || recordPath} was baked from this template ` +
            `(fingerprint ${fingerprint.slice(0, 12)}); --force bakes it again`,
        );
        return options.dryRun ? undefined : existing;
      }
    }

    const env = packerEnv(options.env ?? process.env);
    if (options.dryRun) {
      await printDryRun(options, outDir, template, fingerprint, env, progress);
      return undefined;
    }
    const watch = watchInterrupts({
      cleanup: "Packer gets it and removes its build VM; waiting for it",
      leftBehind: `Packer's build VM may remain (VBoxManage list vms; virsh or ps for qemu), and ${join(outDir, IMAGES_DIR)}/.${imageStem(options.image)}.partial-* (the next build-image removes it)`,
      stderr: options.stderr,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      return await bake({ options, outDir, template, fingerprint, stem, recordPath, env, progress, watch });
    } finally {
      watch.dispose();
    }
  } finally {
    progress.close();
  }
}

interface BakeContext {
  options: BuildImageOptions;
  outDir: string;
  template: { artifacts: Artifact[]; mainFile: string };
  fingerprint: string;
  stem: string;
  recordPath: string;
  env: NodeJS.ProcessEnv;
  progress: Progress;
  watch: InterruptScope;
}

async function bake(ctx: BakeContext): Promise<ImageRecord> {
  const { options, outDir, progress, watch } = ctx;
  const qemuBuild = options.image.builder === "qemu";
  const { tools, qemu, vars } = await hostPreflight(options, ctx.env);
  progress.info(
    `Packer ${tools.packerVersion.text} (${tools.packer})` +
      (tools.virtualBoxVersion ? `, VirtualBox ${tools.virtualBoxVersion}` : "") +
      (qemu
        ? `, qemu ${qemu.version} (${qemu.qemu}), accelerator ${qemu.accelerator}${qemu.accelerator === "tcg" ? ": no usable KVM, the CPU is emulated (slower)" : ""}`
        : ""),
  );
  if (tools.templateVars.nat_localhost_reachable) {
    progress.info(
      "VirtualBox 7: the build VM's NAT may reach Packer's HTTP server (--nat-localhostreachable1 on); " +
        "turned off again before the export",
    );
  }
  const interrupted = () => new InterruptedError("interrupted: Packer stopped; no image was written");
  if (watch.signal.aborted) throw interrupted();

  const templateDir = join(outDir, PACKER_DIR);
  await writeTemplate(outDir, ctx.template.artifacts, progress);
  const imagesDir = join(outDir, IMAGES_DIR);
  await mkdir(imagesDir, { recursive: true });
  await removeStaleStaging(imagesDir, ctx.stem);
  const staging = stagingDir(imagesDir, ctx.stem);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  try {
    const commands = packerCommands({
      templateDir,
      mainFile: join(outDir, ctx.template.mainFile),
      plugins: supportsPlugins(tools.packerVersion),
      outputDirectory: join(staging, "output"),
      vars,
    });
    const checks = new ImageCheckCollector();
    const step = async (what: string, args: string[]): Promise<PackerRunResult> => {
      if (watch.signal.aborted) throw interrupted();
      progress.stage(what);
      const result = await runPacker(tools.packer, args, {
        cwd: templateDir,
        env: ctx.env,
        progress,
        interrupted: watch.signal,
        onUi: (line) => checks.add(line),
      });
      if (result.interrupted) throw interrupted();
      if (result.code !== 0) throw packerFailed(what, result);
      return result;
    };
    if (commands.init) await step("packer init", commands.init);
    await step("packer validate", commands.validate);
    const started = Date.now();
    const build = await step("packer build", commands.build);

    const files = build.artifacts.flatMap((a) => a.files).map((file) => resolve(templateDir, file));
    const extension = imageExtension(options.image);
    const image = files.find((file) => file.toLowerCase().endsWith(extension));
    if (!image) {
      throw new ExternalError(
        `packer build finished but reported no ${extension} artifact (files: ${files.join(", ") || "none"})`,
        qemuBuild
          ? 'the template must build one qcow2 (qemu with format = "qcow2")'
          : 'the template must build one OVA (virtualbox-iso with format = "ova")',
      );
    }
    progress.stage("sha256");
    const { sha256, size } = await hashFile(image, { stop: () => watch.signal.aborted });
    const storageController = qemuBuild ? undefined : await ovaIdeController(image);
    if (watch.signal.aborted) throw interrupted();

    // From here on, finish: the old record goes first, so that no state pairs a record with
    // an image it does not describe.
    const finalImage = join(imagesDir, `${ctx.stem}${extension}`);
    await rm(ctx.recordPath, { force: true });
    await moveFile(image, finalImage);
    const imageCheck = checks.result();
    const record: ImageRecord = {
      name: options.image.name,
      version: options.image.version,
      file: `${ctx.stem}${extension}`,
      size,
      sha256,
      specSha256: options.specSha256,
      templateFingerprint: ctx.fingerprint,
      packerVersion: tools.packerVersion.text,
      ...(tools.virtualBoxVersion ? { virtualBoxVersion: tools.virtualBoxVersion } : {}),
      ...(storageController ? { storageController } : {}),
      ...(options.image.builder ? { builder: options.image.builder, os: options.os ?? "ubuntu-20.04" } : {}),
      ...(qemu ? { qemu: { version: qemu.version, accelerator: qemu.accelerator } } : {}),
      ...(imageCheck ? { imageCheck } : {}),
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 1000),
      ...(Object.keys(build.packages).length > 0 ? { packages: build.packages } : {}),
    };
    await writeImageRecord(ctx.recordPath, record);
    if (imageCheck) progress.info(`image checks: ${imageCheck.checks.length} passed`);
    progress.info(`image ${finalImage}: ${size} bytes, sha256 ${sha256}`);
    progress.info(`record ${ctx.recordPath}`);
    return record;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** ".qcow2" for the qemu builder, ".ova" for VirtualBox. */
export function imageExtension(image: Pick<ImageSpec, "builder">): string {
  return image.builder === "qemu" ? ".qcow2" : ".ova";
}

function packerFailed(what: string, result: PackerRunResult): ExternalError {
  const how = result.signal ? `was ended by ${result.signal}` : `exited ${result.code}`;
  const errors = result.errors.slice(-12);
  return new ExternalError(
    `${what} failed (packer ${how})${errors.length ? `:\n  ${errors.join("\n  ")}` : ""}`,
    "Packer's full output is above; PACKER_LOG=1 adds its debug log",
  );
}

/**
 * What a bake needs on this machine, for a bake and a dry run alike: Packer and its version, and
 * the builder's hypervisor (VirtualBox; or qemu, its firmware and an accelerator). Returns the
 * -var settings that follow from what was found.
 */
async function hostPreflight(options: BuildImageOptions, env: NodeJS.ProcessEnv) {
  const qemuBuild = options.image.builder === "qemu";
  const checkHost = options.requireVirtualBox ?? true;
  const tools = await preflight({
    packer: options.packer ?? "packer",
    requireVirtualBox: checkHost && !qemuBuild,
    env,
  });
  const qemu: QemuHost | undefined = checkHost && qemuBuild ? await qemuPreflight(env) : undefined;
  const vars: Record<string, string> = { ...tools.templateVars, ...(qemu ? { accelerator: qemu.accelerator } : {}) };
  return { tools, qemu, vars };
}

/**
 * --dry-run: the same preflight as a bake (Packer, its version, the builder's hypervisor), whether
 * the installer ISO or cloud image can be had, then the commands a person can paste to bake by
 * hand: the same -var settings as a bake, a lasting output folder instead of the throw-away
 * staging folder a bake uses, and first the command that writes the template.
 */
async function printDryRun(
  options: BuildImageOptions,
  outDir: string,
  template: { artifacts: Artifact[]; mainFile: string },
  fingerprint: string,
  env: NodeJS.ProcessEnv,
  progress: Progress,
): Promise<void> {
  const { tools, qemu, vars } = await hostPreflight(options, env);
  progress.info(
    `dry run: Packer ${tools.packerVersion.text} at ${tools.packer}` +
      (tools.virtualBoxVersion ? `, VirtualBox ${tools.virtualBoxVersion}` : "") +
      (qemu ? `, qemu ${qemu.version} (accelerator ${qemu.accelerator})` : ""),
  );
  // only the golden-image template starts from an ISO or a cloud image (tests build others)
  const source = options.template ? undefined : sourceImage(options.image.builder, options.os ?? "ubuntu-20.04", env);
  if (source) {
    const checked = await checkReachable(source, options.reachTimeoutMs);
    progress.info(
      `dry run: the ${source.what} ${source.url} ${checked ? "is reachable" : "was not checked (Packer fetches that kind of URL itself)"}`,
    );
  }
  const stem = imageStem(options.image);
  const outputDirectory = join(outDir, IMAGES_DIR, `${stem}.packer-output`);
  const commands = packerCommands({
    templateDir: join(outDir, PACKER_DIR),
    mainFile: join(outDir, template.mainFile),
    plugins: supportsPlugins(tools.packerVersion),
    outputDirectory,
    vars,
  });
  progress.info(
    `dry run: nothing was written. A bake writes ${template.artifacts.length} files to ${join(outDir, PACKER_DIR)} ` +
      `(template fingerprint ${fingerprint.slice(0, 12)}), runs the commands below in a private folder, then records ` +
      `${join(outDir, IMAGES_DIR, `${stem}${imageExtension(options.image)}`)}; by hand, the image lands in ${outputDirectory}`,
  );
  const out = options.stdout ?? options.stderr;
  if (options.renderCommand) out.write(`${shellQuote(options.renderCommand)}\n`);
  for (const args of [commands.init, commands.validate, commands.build]) {
    if (args) out.write(`${shellQuote([tools.packer, ...args])}\n`);
  }
}

/** The image record, pretty-printed, written whole (its reader is record.ts, which `seed` loads too). */
export async function writeImageRecord(path: string, record: ImageRecord): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
}

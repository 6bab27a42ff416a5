// `k8s-ha build-image`: bakes the golden image with Packer and records it.
//   skip if the image record matches the template fingerprint (unless --force)
//   → preflight (Packer, VirtualBox) → write DIR/packer/ → packer init (>= 1.7) → validate → build
//   → OVA found from Packer's artifact lines → sha256 → DIR/images/<name>-<version>.ova + .json
// Packer writes into a staging folder inside DIR/images; only a finished, checksummed OVA is
// moved into place, so a failure or a Ctrl-C leaves nothing half-written behind.
import { mkdir, rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { ExternalError, InterruptedError } from "../errors.js";
import type { Artifact } from "../render/artifact.js";
import type { ImageSpec } from "../spec/schema.js";
import { loadPackerAssets } from "./assets.js";
import { hashFile } from "../write/hash.js";
import { moveFile, removeStaleStaging, stagingDir, writeTemplate } from "./files.js";
import { templateFingerprint } from "./fingerprint.js";
import { which } from "../tools/run.js";
import { packerEnv, packerVersion, preflight, supportsPlugins } from "./preflight.js";
import { createProgress, type Progress } from "./progress.js";
import {
  IMAGES_DIR,
  imageRecordPath,
  imageStem,
  isUpToDate,
  readImageRecord,
  writeImageRecord,
  type ImageRecord,
} from "./record.js";
import { PACKER_DIR, PACKER_MAIN_FILE, renderPacker, type PackerAssets } from "./render.js";
import { InterruptWatch, packerCommands, runPacker, shellQuote, type PackerRunResult } from "./runner.js";

export interface BuildImageOptions {
  /** The output folder of `render` (DIR of `-o DIR`). */
  outDir: string;
  /** sha256 of the spec file, for the image record. */
  specSha256: string;
  clusterName: string;
  image: ImageSpec;
  dryRun?: boolean;
  force?: boolean;
  /** The Packer binary (default "packer" on PATH); tests point it elsewhere. */
  packer?: string;
  /** Check for VBoxManage before building (default true; tests with the null builder turn it off). */
  requireVirtualBox?: boolean;
  /** Progress and logs. */
  stderr: NodeJS.WritableStream;
  /** Where --dry-run prints the Packer commands (default: stderr). */
  stdout?: NodeJS.WritableStream;
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
        assets: options.assets ?? (await loadPackerAssets()),
        ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}),
      }),
      mainFile: PACKER_MAIN_FILE,
    };
    const fingerprint = templateFingerprint(template.artifacts);
    const stem = imageStem(options.image);
    const recordPath = imageRecordPath(outDir, options.image);

    if (!options.force) {
      const existing = await readImageRecord(recordPath);
      if (existing && (await isUpToDate(recordPath, existing, fingerprint))) {
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
    const watch = new InterruptWatch(progress, options.signal);
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
  watch: InterruptWatch;
}

async function bake(ctx: BakeContext): Promise<ImageRecord> {
  const { options, outDir, progress, watch } = ctx;
  const tools = await preflight({
    packer: options.packer ?? "packer",
    requireVirtualBox: options.requireVirtualBox ?? true,
    env: ctx.env,
  });
  progress.info(
    `Packer ${tools.packerVersion.text} (${tools.packer})` +
      (tools.virtualBoxVersion ? `, VirtualBox ${tools.virtualBoxVersion}` : ""),
  );
  const interrupted = () => new InterruptedError("interrupted: Packer stopped; no image was written");
  if (watch.interrupted) throw interrupted();

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
    });
    const step = async (what: string, args: string[]): Promise<PackerRunResult> => {
      progress.stage(what);
      const result = await runPacker(tools.packer, args, { cwd: templateDir, env: ctx.env, progress, watch });
      if (result.interrupted || watch.interrupted) throw interrupted();
      if (result.code !== 0) throw packerFailed(what, result);
      return result;
    };
    if (commands.init) await step("packer init", commands.init);
    await step("packer validate", commands.validate);
    const started = Date.now();
    const build = await step("packer build", commands.build);

    const files = build.artifacts.flatMap((a) => a.files).map((file) => resolve(templateDir, file));
    const ova = files.find((file) => file.toLowerCase().endsWith(".ova"));
    if (!ova) {
      throw new ExternalError(
        `packer build finished but reported no .ova artifact (files: ${files.join(", ") || "none"})`,
        'the template must build one OVA (virtualbox-iso with format = "ova")',
      );
    }
    progress.stage("sha256");
    const { sha256, size } = await hashFile(ova, { stop: () => watch.interrupted });
    if (watch.interrupted) throw interrupted();

    // From here on, finish: the old record goes first, so that no state pairs a record with
    // an OVA it does not describe.
    const finalOva = join(imagesDir, `${ctx.stem}.ova`);
    await rm(ctx.recordPath, { force: true });
    await moveFile(ova, finalOva);
    const record: ImageRecord = {
      name: options.image.name,
      version: options.image.version,
      file: `${ctx.stem}.ova`,
      size,
      sha256,
      specSha256: options.specSha256,
      templateFingerprint: ctx.fingerprint,
      packerVersion: tools.packerVersion.text,
      ...(tools.virtualBoxVersion ? { virtualBoxVersion: tools.virtualBoxVersion } : {}),
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 1000),
      ...(Object.keys(build.packages).length > 0 ? { packages: build.packages } : {}),
    };
    await writeImageRecord(ctx.recordPath, record);
    progress.info(`image ${finalOva}: ${size} bytes, sha256 ${sha256}`);
    progress.info(`record ${ctx.recordPath}`);
    return record;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function packerFailed(what: string, result: PackerRunResult): ExternalError {
  const how = result.signal ? `was ended by ${result.signal}` : `exited ${result.code}`;
  const errors = result.errors.slice(-12);
  return new ExternalError(
    `${what} failed (packer ${how})${errors.length ? `:\n  ${errors.join("\n  ")}` : ""}`,
    "Packer's full output is above; PACKER_LOG=1 adds its debug log",
  );
}

async function printDryRun(
  options: BuildImageOptions,
  outDir: string,
  template: { artifacts: Artifact[]; mainFile: string },
  fingerprint: string,
  env: NodeJS.ProcessEnv,
  progress: Progress,
): Promise<void> {
  const packer = options.packer ?? "packer";
  const located = await which(packer);
  let plugins = true;
  if (located) {
    const version = await packerVersion(located, env).catch(() => undefined);
    if (version) plugins = supportsPlugins(version);
    progress.info(`dry run: Packer ${version?.text ?? "(version unknown)"} at ${located}`);
  } else {
    progress.info(`dry run: Packer not found on PATH; showing the commands for Packer >= 1.7`);
  }
  const stem = imageStem(options.image);
  const imagesDir = join(outDir, IMAGES_DIR);
  const commands = packerCommands({
    templateDir: join(outDir, PACKER_DIR),
    mainFile: join(outDir, template.mainFile),
    plugins,
    outputDirectory: join(stagingDir(imagesDir, stem), "output"),
  });
  progress.info(
    `dry run: would write ${template.artifacts.length} files to ${join(outDir, PACKER_DIR)} ` +
      `(template fingerprint ${fingerprint.slice(0, 12)}), run these, ` +
      `then write ${join(imagesDir, `${stem}.ova`)} and ${stem}.json`,
  );
  const out = options.stdout ?? options.stderr;
  for (const args of [commands.init, commands.validate, commands.build]) {
    if (args) out.write(`${shellQuote([packer, ...args])}\n`);
  }
}

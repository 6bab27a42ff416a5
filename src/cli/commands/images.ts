// `k8s-ha images list [spec]` and `k8s-ha images pull [spec] NAME@VERSION -o DIR`: browse and
// fetch the images other teams published to spec.publish.s3. list reads the image's catalogue
// (src/publish/catalogue.ts) and shows the versions whose files are all there (src/publish/list.ts);
// pull verifies every byte (src/publish/pull.ts); gc removes what no catalogue names (src/publish/gc.ts).
import { latestVersion, readCatalogue, type Catalogue } from "../../publish/catalogue.js";
import { createS3Client } from "../../publish/client.js";
import { attempt } from "../../publish/errors.js";
import { catalogueKey, parseImageRef, ROLES, s3Url, storeName } from "../../publish/layout.js";
import { collectGarbage } from "../../publish/gc.js";
import { checkVersions } from "../../publish/list.js";
import { formatBytes } from "../../publish/progress.js";
import { pullImage } from "../../publish/pull.js";
import { IMAGE_NAME } from "../../spec/schema.js";
import { UsageError } from "../../errors.js";
import { compileSpec, publishTarget } from "../compile.js";
import { stderr, stdout } from "../../terminal.js";

export interface ImagesListOptions {
  json?: boolean;
  /** Another image in the same bucket and prefix (default: the spec's spec.image.name). */
  name?: string;
}

export async function runImagesList(spec: string | undefined, options: ImagesListOptions): Promise<void> {
  if (options.name !== undefined && !IMAGE_NAME.test(options.name)) {
    throw new UsageError(
      `"${options.name}" is not an image name`,
      "lowercase letters, digits, '.' and '-', as in spec.image.name",
    );
  }
  const compiled = await compileSpec(spec, { requires: ["publish"], nothingDone: "nothing was listed" });
  const s3 = publishTarget(compiled);
  const name = options.name ?? compiled.spec.spec.image.name;
  const url = s3Url(s3, catalogueKey(s3, name));
  const client = createS3Client(s3);
  const { catalogue: listed } = await attempt(() => readCatalogue(client, s3, name), `reading ${url}`, s3);
  const { complete, damaged } = await attempt(
    () => checkVersions(client, s3, listed),
    `checking the files ${url} lists`,
    s3,
  );
  for (const { version, problems } of damaged) {
    stderr.write(`warning: ${name} ${version} is listed in ${url} but not shown: ${problems.join("; ")}\n`);
  }
  const catalogue = { ...listed, versions: complete };
  const latest = latestVersion(catalogue)?.version ?? null;
  if (options.json) {
    const result = {
      name,
      bucket: s3.bucket,
      prefix: s3.prefix,
      store: storeName(s3),
      catalogue: url,
      latest,
      versions: catalogue.versions,
      damaged: damaged.map((d) => d.version),
    };
    stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (catalogue.versions.length === 0) {
    stderr.write(`no version of ${name} is published in ${s3Url(s3, s3.prefix)} (${storeName(s3)})\n`);
    return;
  }
  stderr.write(`${name} in ${s3Url(s3, s3.prefix)} (${storeName(s3)}), latest ${latest}\n`);
  stdout.write(formatTable(catalogue, latest));
}

export function formatTable(catalogue: Catalogue, latest: string | null): string {
  const rows = [["VERSION", "BUILT", "PUBLISHED", "SIZE", "SHA256", "FILES"]];
  for (const v of catalogue.versions) {
    const image = v.files.find((f) => f.role === ROLES.image);
    rows.push([
      v.version === latest ? `${v.version} (latest)` : v.version,
      v.builtAt,
      v.publishedAt,
      image ? formatBytes(image.size) : "-",
      image ? image.sha256.slice(0, 12) : "-",
      v.files.map((f) => f.role).join(","),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n") +
    "\n"
  );
}

export interface ImagesPullOptions {
  output: string;
  json?: boolean;
}

export async function runImagesPull(spec: string | undefined, ref: string, options: ImagesPullOptions): Promise<void> {
  const parsed = parseImageRef(ref);
  if ("error" in parsed)
    throw new UsageError(parsed.error, "name an image as NAME@VERSION or NAME@latest, e.g. k8s-ha-ubuntu-20.04@0.1.0");
  const compiled = await compileSpec(spec, { requires: ["publish"], nothingDone: "nothing was pulled" });
  const s3 = publishTarget(compiled);
  const result = await pullImage({ outDir: options.output, s3, ref: parsed });
  if (options.json) stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

export interface ImagesGcOptions {
  name?: string;
  /** Hours; unlisted objects younger than this stay (a publish may be uploading them). */
  minAge: string;
  dryRun?: boolean;
  json?: boolean;
}

export async function runImagesGc(spec: string | undefined, options: ImagesGcOptions): Promise<void> {
  if (options.name !== undefined && !IMAGE_NAME.test(options.name)) {
    throw new UsageError(
      `"${options.name}" is not an image name`,
      "lowercase letters, digits, '.' and '-', as in spec.image.name",
    );
  }
  const hours = Number(options.minAge);
  if (options.minAge.trim() === "" || !Number.isFinite(hours) || hours < 0) {
    throw new UsageError(
      `--min-age ${options.minAge} is not a number of hours`,
      "e.g. --min-age 24 (the default), or 0 when no publish is running",
    );
  }
  const compiled = await compileSpec(spec, { requires: ["publish"], nothingDone: "nothing was removed" });
  const s3 = publishTarget(compiled);
  const name = options.name ?? compiled.spec.spec.image.name;
  const where = s3Url(s3, `${s3.prefix}${name}/`);
  const log = (line: string) => stderr.write(`${line}\n`);
  const result = await attempt(
    () =>
      collectGarbage({
        client: createS3Client(s3),
        s3,
        name,
        minAgeSeconds: hours * 3600,
        dryRun: options.dryRun ?? false,
        log,
      }),
    `collecting garbage under ${where}`,
    s3,
  );
  if (options.dryRun) for (const url of result.removed) log(`would remove ${url}`);
  if (result.young.length > 0)
    log(
      `kept ${result.young.length} unlisted object(s) younger than ${hours} h (a publish may still be uploading them)`,
    );
  log(
    `${options.dryRun ? "would remove" : "removed"} ${result.removed.length} object(s), ${formatBytes(result.bytes)}, named by no version in ${s3Url(s3, catalogueKey(s3, name))}`,
  );
  if (options.json) stdout.write(`${JSON.stringify({ name, dryRun: options.dryRun ?? false, ...result }, null, 2)}\n`);
}

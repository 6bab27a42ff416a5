// `k8s-ha build-image --publish` as users run it (the built CLI) against s3rver. VirtualBox cannot
// bake here, so the image is one build-image considers up to date: a stand-in OVA whose record
// carries the fingerprint of the template this spec renders. The refusals are checked to come
// before the bake: no packer/ folder is written and Packer is never looked for.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSpec } from "../../src/cli/compile.js";
import { loadPackerAssets } from "../../src/packer/assets.js";
import { templateFingerprint } from "../../src/packer/fingerprint.js";
import { renderPacker } from "../../src/packer/render.js";
import { runCli } from "../helpers/cli.js";
import {
  catalogueKeyOf,
  IMAGE_NAME,
  listedKeyOf,
  s3Env,
  sha256,
  useStoreAndTempDir,
  writeImage,
  writeSpec,
} from "./helpers.js";

const MiB = 1024 * 1024;

const lab = useStoreAndTempDir("k8s-ha-build-publish-");
let buckets = 0;

/** No Packer on PATH: a test that reached the bake would fail with "Packer not found". */
const cli = (args: string[]) => runCli(args, { env: s3Env(lab.dir, { PATH: "/nonexistent" }) });

async function bucket(): Promise<string> {
  const name = `built-${++buckets}`;
  await lab.store.createBucket(name);
  return name;
}

/** The fingerprint build-image computes for this spec's template: a record with it is up to date. */
async function fingerprintOf(spec: string): Promise<string> {
  const compiled = await compileSpec(spec);
  return templateFingerprint(
    renderPacker({
      clusterName: compiled.plan.name,
      image: compiled.plan.image,
      os: compiled.plan.target.os,
      assets: await loadPackerAssets(),
    }),
  );
}

async function catalogue(
  name: string,
): Promise<{ versions: { version: string; files: { role: string; sha256: string }[] }[] } | undefined> {
  const bytes = await lab.store.get(name, catalogueKeyOf());
  return bytes ? JSON.parse(bytes.toString("utf8")) : undefined;
}

describe("build-image --publish", () => {
  it("publishes the image it built (here: found up to date), lists it; a second run sends nothing", async () => {
    const name = await bucket();
    const spec = await writeSpec(join(lab.dir, "spec.yaml"), { endpoint: lab.store.endpoint, bucket: name });
    const out = join(lab.dir, "out");
    const record = await writeImage(out, "0.1.0", 2 * MiB, await fingerprintOf(spec));

    const first = await cli(["build-image", spec, "-o", out, "--publish", "--json"]);
    expect(first.stderr).not.toMatch(/internal error|Packer not found/);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`${IMAGE_NAME}-0.1.0 is up to date`);
    expect(first.stderr).toMatch(/uploaded k8s-ha-ubuntu-20\.04-0\.1\.0\.ova: 2\.0 MiB in .* checked by HEAD/);
    expect(JSON.parse(first.stdout)).toMatchObject({
      name: IMAGE_NAME,
      version: "0.1.0",
      bucket: name,
      unchanged: false,
      versions: ["0.1.0"],
    });
    expect(
      sha256((await lab.store.get(name, await listedKeyOf(lab.store, name, "0.1.0", `${IMAGE_NAME}-0.1.0.ova`)))!),
    ).toBe(record.sha256);
    expect((await catalogue(name))?.versions.map((v) => v.version)).toEqual(["0.1.0"]);

    // a CI retry: the same image is listed already; the preflight lets it through, nothing is sent
    const puts = lab.store.requests.filter((r) => r.method === "PUT").length;
    const second = await cli(["build-image", spec, "-o", out, "--publish"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/already published .* with the same files .* nothing was sent/);
    expect(lab.store.requests.filter((r) => r.method === "PUT").length).toBe(puts);
  });

  it("a version published with another image is refused before the bake; --force gets past the check", async () => {
    const name = await bucket();
    const spec = await writeSpec(join(lab.dir, "spec.yaml"), { endpoint: lab.store.endpoint, bucket: name });
    const elsewhere = join(lab.dir, "elsewhere");
    await writeImage(elsewhere, "0.1.0", MiB);
    expect((await cli(["publish", spec, "-o", elsewhere])).code).toBe(0);
    const before = await catalogue(name);

    const out = join(lab.dir, "out");
    const refused = await cli(["build-image", spec, "-o", out, "--publish"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /k8s-ha-ubuntu-20\.04 0\.1\.0 is already published in s3:\/\/built-\d+\/k8s-ha\/k8s-ha-ubuntu-20\.04\/index\.json .*nothing was baked/,
    );
    expect(refused.stderr).toMatch(/hint: bump spec\.image\.version .* --force/);
    expect(existsSync(join(out, "packer"))).toBe(false);
    expect(await catalogue(name)).toEqual(before);

    // --force passes the preflight and goes on to the bake (no Packer here: exit 3, catalogue intact)
    const forced = await cli(["build-image", spec, "-o", out, "--publish", "--force"]);
    expect(forced.code).toBe(3);
    expect(forced.stderr).toContain("Packer not found");
    expect(await catalogue(name)).toEqual(before);
  });

  it("--dry-run --publish checks the store, prints the commands and the destination, writes and sends nothing", async () => {
    const name = await bucket();
    const spec = await writeSpec(join(lab.dir, "spec.yaml"), { endpoint: lab.store.endpoint, bucket: name });
    const out = join(lab.dir, "out");
    const puts = lab.store.requests.filter((r) => r.method === "PUT").length;
    // --dry-run runs the bake's preflight: the real Packer, and a VirtualBox that answers --version
    const bin = join(lab.dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "VBoxManage"), "#!/bin/sh\necho 7.0.14r161095\n", { mode: 0o755 });
    // and the installer ISO it checks is a local copy (tests reach no address but loopback)
    const iso = join(lab.dir, "installer.iso");
    writeFileSync(iso, "not really an ISO");
    const dry = await runCli(["build-image", spec, "-o", out, "--publish", "--dry-run"], {
      env: s3Env(lab.dir, { PATH: `${bin}:/usr/bin:/bin`, PKR_VAR_iso_url: iso }),
    });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^\S*packer build /m);
    expect(dry.stderr).toContain(
      `would then publish ${IMAGE_NAME} 0.1.0 and list it in s3://${name}/k8s-ha/${IMAGE_NAME}/index.json`,
    );
    expect(
      lab.store.requests.some(
        (r) => r.method === "GET" && r.url.startsWith(`/${name}/k8s-ha/${IMAGE_NAME}/index.json`),
      ),
    ).toBe(true);
    expect(lab.store.requests.filter((r) => r.method === "PUT").length).toBe(puts);
    expect(existsSync(out)).toBe(false);
  });

  it("a missing bucket or refused credentials stop it before the bake (exit 3)", async () => {
    const spec = await writeSpec(join(lab.dir, "spec.yaml"), {
      endpoint: lab.store.endpoint,
      bucket: "no-such-bucket",
    });
    const out = join(lab.dir, "out");
    const missing = await cli(["build-image", spec, "-o", out, "--publish"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/bucket "no-such-bucket" does not exist .*NoSuchBucket/);
    expect(missing.stderr).toContain("before baking");
    expect(existsSync(join(out, "packer"))).toBe(false);

    const name = await bucket();
    const spec2 = await writeSpec(join(lab.dir, "spec2.yaml"), { endpoint: lab.store.endpoint, bucket: name });
    const denied = await runCli(["build-image", spec2, "-o", out, "--publish"], {
      env: s3Env(lab.dir, {
        PATH: "/nonexistent",
        AWS_ACCESS_KEY_ID: "WRONG-KEY-ID",
        AWS_SECRET_ACCESS_KEY: "wrong-secret-value",
      }),
    });
    expect(denied.code).toBe(3);
    expect(denied.stderr).not.toContain("wrong-secret-value");
    expect(existsSync(join(out, "packer"))).toBe(false);
  });

  it("a spec without spec.publish.s3 is a located finding (exit 1); nothing is baked", async () => {
    const spec = await writeSpec(join(lab.dir, "spec.yaml"), { endpoint: lab.store.endpoint, publish: false });
    const out = join(lab.dir, "out");
    const result = await cli(["build-image", spec, "-o", out, "--publish"]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/spec\.yaml:\d+:\d+\s+spec\.publish\.s3\s+not set/);
    expect(result.stderr).toContain("nothing was baked or published");
    expect(existsSync(join(out, "packer"))).toBe(false);
  });
});

// `k8s-ha kubeadm join-config` on the built CLI: the join values from flags or the environment,
// checked; one 0600 JoinConfiguration per joining node; nothing else in the output touched.
import { stat, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EXAMPLES, runCli, tempDir, tree } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";

const SPEC = join(EXAMPLES, "virtualbox-kubeadm.yaml");
const TOKEN = "abcdef.0123456789abcdef";
const HASH = `sha256:${"c3".repeat(32)}`;
const KEY = "9e".repeat(32);
const ENV = { K8S_HA_JOIN_TOKEN: TOKEN, K8S_HA_CA_CERT_HASH: HASH, K8S_HA_CERTIFICATE_KEY: KEY };

describe("kubeadm join-config", () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    tmp = await tempDir("k8s-ha-join-");
  });
  afterEach(async () => tmp.cleanup());

  it("adds each joining node's JoinConfiguration (0600) beside the rendered output and changes nothing else", async () => {
    const out = join(tmp.dir, "out");
    expect((await runCli(["render", SPEC, "-o", out])).code).toBe(0);
    const before = await tree(out);
    const result = await runCli(["kubeadm", "join-config", SPEC, "-o", out], { env: ENV });
    expect(result.code, result.stderr).toBe(0);
    const after = await tree(out);
    expect(
      Object.keys(after)
        .filter((p) => !(p in before))
        .sort(),
    ).toEqual(["nodes/cp2/kubeadm.yaml", "nodes/cp3/kubeadm.yaml"]);
    for (const [path, sha] of Object.entries(before)) expect(after[path], path).toBe(sha);
    for (const node of ["cp2", "cp3"]) {
      const file = join(out, "nodes", node, "kubeadm.yaml");
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const doc = parse(await readFile(file, "utf8"));
      expect(doc.kind).toBe("JoinConfiguration");
      expect(doc.discovery.bootstrapToken).toEqual({
        apiServerEndpoint: "192.168.56.100:8443",
        token: TOKEN,
        caCertHashes: [HASH],
      });
      expect(doc.controlPlane.certificateKey).toBe(KEY);
    }
    // the secrets never reach the manifest, which still describes exactly what render wrote
    const manifest = await readFile(join(out, "manifest.json"), "utf8");
    expect(manifest).not.toContain("cp2/kubeadm.yaml");
    expect(manifest).not.toMatch(new RegExp(`${TOKEN}|${KEY}`));
    expect(result.stderr).toContain("sudo kubeadm join --config kubeadm.yaml");
  });

  it("takes flags over the environment, and --node writes one node", async () => {
    const out = join(tmp.dir, "out");
    const other = "zyxwvu.0123456789abcdef";
    const result = await runCli(["kubeadm", "join-config", SPEC, "-o", out, "--node", "cp3", "--token", other], {
      env: ENV,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(Object.keys(await tree(out))).toEqual(["nodes/cp3/kubeadm.yaml"]);
    expect(await readFile(join(out, "nodes/cp3/kubeadm.yaml"), "utf8")).toContain(`token: ${other}`);
  });

  it.each([
    [
      "a missing value",
      { K8S_HA_JOIN_TOKEN: TOKEN },
      [],
      2,
      /missing --ca-cert-hash \(or K8S_HA_CA_CERT_HASH\), --certificate-key/,
    ],
    ["an upper-case token", { ...ENV, K8S_HA_JOIN_TOKEN: "ABCDEF.0123456789abcdef" }, [], 2, /token must look like/],
    ["a hash without sha256:", { ...ENV, K8S_HA_CA_CERT_HASH: "c3".repeat(32) }, [], 2, /CA cert hash must be sha256:/],
    ["a short certificate key", ENV, ["--certificate-key", "9e9e"], 2, /certificate key must be 64/],
    [
      "a YAML injection in the token",
      { ...ENV, K8S_HA_JOIN_TOKEN: `${TOKEN}\nkind: x` },
      [],
      2,
      /token must look like/,
    ],
    ["the init node as --node", ENV, ["--node", "cp1"], 2, /--node cp1 is not a joining node .*cp1 runs kubeadm init/],
  ])("refuses %s and writes nothing", async (_name, env, args, code, message) => {
    const out = join(tmp.dir, "out");
    const result = await runCli(["kubeadm", "join-config", SPEC, "-o", out, ...args], {
      env: { K8S_HA_JOIN_TOKEN: "", K8S_HA_CA_CERT_HASH: "", K8S_HA_CERTIFICATE_KEY: "", ...env },
    });
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/hint: /);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it("refuses a spec without spec.kubernetes with exit 1", async () => {
    const spec = join(tmp.dir, "k8s-ha.yaml");
    await writeFile(spec, specYaml());
    const result = await runCli(["kubeadm", "join-config", spec, "-o", join(tmp.dir, "out")], { env: ENV });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/spec\.kubernetes is not set/);
    await expect(stat(join(tmp.dir, "out"))).rejects.toThrow(/ENOENT/);
  });
});

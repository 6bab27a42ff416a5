// The field-readiness checks (issue 19): other NICs, firewall rules ufw accepts, users who can log
// in with a key that decodes, and the messages of the trial (tabs, VIP subnet, too many nodes).
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkSpecText } from "../../src/spec/index.js";
import { formatPath } from "../../src/spec/findings.js";
import { portProblem, sourceProblem } from "../../src/spec/firewall.js";
import { sshKeyProblem } from "../../src/spec/ssh-keys.js";
import { specYaml } from "../helpers/specs.js";

/** A real ed25519 public key (its private half was thrown away). */
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 ops@x";
/** A real RSA public key, for the type-mismatch case. */
const RSA_BLOB =
  "AAAAB3NzaC1yc2EAAAADAQABAAAAgQCtEiI8Fy3VIW1b9n0F/99LfrVA+/15Z5lh+I4M5jf19ljik/oXy9t3jx3GmfTAjW32XHIzYpITt5+OZq0t8SZbXNfqMsbNYwIWHbLHCuemQWvVCvnk//zCJtlH23nEGOQEoX3zBR1Ab1d6ZEO5xgYxloCuqvk6vtbKBPLTihtbZQ==";

function errors(text: string) {
  const r = checkSpecText("spec.yaml", text, {});
  return r.findings.filter((f) => f.severity === "error").map((f) => `${formatPath(f.path)}@${f.line}: ${f.message}`);
}
const check = (mutate: (s: Record<string, any>) => void) => errors(specYaml(mutate));
const warnings = (mutate: (s: Record<string, any>) => void) =>
  checkSpecText("spec.yaml", specYaml(mutate), {})
    .findings.filter((f) => f.severity === "warning")
    .map((f) => `${formatPath(f.path)}: ${f.message}`);

describe("network.dhcpInterfaces", () => {
  it("accepts other NICs and defaults to none", () => {
    expect(check((s) => (s.spec.network.dhcpInterfaces = ["enp0s8"]))).toEqual([]);
    expect(checkSpecText("spec.yaml", specYaml(), {}).spec!.spec.network.dhcpInterfaces).toEqual([]);
  });
  it("refuses the cluster NIC, repeats and names that are no interface", () => {
    expect(
      check(
        (s) => (
          (s.spec.network.interface = "enp0s8"),
          (s.spec.network.dhcpInterfaces = ["enp0s8", "enp0s3", "enp0s3", "eth;0"])
        ),
      ),
    ).toEqual([expect.stringMatching(/^spec\.network\.dhcpInterfaces\[3\]@\d+: must be a Linux interface name/)]);
    expect(
      check(
        (s) => (
          (s.spec.network.interface = "enp0s8"),
          (s.spec.network.dhcpInterfaces = ["enp0s8", "enp0s3", "enp0s3"])
        ),
      ),
    ).toEqual([
      expect.stringMatching(/^spec\.network\.dhcpInterfaces\[0\]@\d+: enp0s8 is the cluster NIC/),
      expect.stringMatching(/^spec\.network\.dhcpInterfaces\[2\]@\d+: enp0s3 is listed twice/),
    ]);
  });
  it("warns when packages must be installed and no NIC reaches a mirror", () => {
    const noWay = (s: Record<string, any>) => delete s.spec.network.gateway;
    expect(warnings(noWay)).toContainEqual(
      expect.stringMatching(/^spec\.network: installPackages is true but no NIC can reach/),
    );
    expect(warnings((s) => (noWay(s), (s.spec.network.dhcpInterfaces = ["enp0s8"])))).not.toContainEqual(
      expect.stringMatching(/no NIC can reach/),
    );
    expect(warnings((s) => (noWay(s), (s.spec.installPackages = false)))).not.toContainEqual(
      expect.stringMatching(/no NIC can reach/),
    );
    expect(warnings(() => {})).not.toContainEqual(expect.stringMatching(/no NIC can reach/));
  });
});

describe("firewall.allow", () => {
  it("judges ports, ranges and sources as ufw does", () => {
    expect(["8472/udp", "80", "30000:32767/tcp", "65535/tcp"].map(portProblem)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(portProblem("70000/tcp")).toMatch(/port 70000 is outside 1-65535/);
    expect(portProblem("0/udp")).toMatch(/port 0 is outside/);
    expect(portProblem("5000:4000/tcp")).toMatch(/from a lower to a higher port/);
    expect(portProblem("4000:4000/tcp")).toMatch(/from a lower to a higher port/);
    expect(portProblem("4000:5000")).toMatch(/needs a protocol/);
    expect(["192.168.56.0/24", "10.0.2.15", "0.0.0.0/0"].map(sourceProblem)).toEqual([undefined, undefined, undefined]);
    expect(sourceProblem("300.1.1.1")).toMatch(/not an IPv4 address/);
    expect(sourceProblem("10.0.0.0/33")).toMatch(/not a prefix length/);
  });
  it("points at each bad entry, in both forms", () => {
    expect(
      check(
        (s) =>
          (s.spec.firewall = {
            allow: [
              "70000/tcp",
              "0/udp",
              "5000:4000/tcp",
              "8472/sctp",
              { port: "8472/udp", from: "10.0.0.0/40" },
              { port: "0/udp" },
            ],
          }),
      ),
    ).toEqual([expect.stringMatching(/^spec\.firewall\.allow\[3\]@\d+: must be PORT/)]);
    expect(
      check(
        (s) =>
          (s.spec.firewall = {
            allow: [
              "70000/tcp",
              "0/udp",
              "5000:4000/tcp",
              { port: "8472/udp", from: "10.0.0.0/40" },
              { port: "0/udp" },
              { port: "1/tcp", from: "x" },
            ],
          }),
      ),
    ).toEqual([expect.stringMatching(/^spec\.firewall\.allow\[5\]\.from@\d+: must be an IPv4 address or CIDR/)]);
    expect(
      check(
        (s) =>
          (s.spec.firewall = {
            allow: [
              "70000/tcp",
              "0/udp",
              "5000:4000/tcp",
              { port: "8472/udp", from: "10.0.0.0/40" },
              { port: "0/udp" },
            ],
          }),
      ),
    ).toEqual([
      expect.stringMatching(/^spec\.firewall\.allow\[0\]@\d+: port 70000 is outside 1-65535: ufw refuses "70000\/tcp"/),
      expect.stringMatching(/^spec\.firewall\.allow\[1\]@\d+: port 0 is outside/),
      expect.stringMatching(/^spec\.firewall\.allow\[2\]@\d+: the range 5000:4000/),
      expect.stringMatching(/^spec\.firewall\.allow\[3\]\.from@\d+: \/40 is not a prefix length/),
      expect.stringMatching(/^spec\.firewall\.allow\[4\]\.port@\d+: port 0 is outside/),
    ]);
  });
  it("accepts a source with the rule", () => {
    expect(
      check((s) => (s.spec.firewall = { allow: [{ port: "8472/udp", from: "192.168.56.0/24" }, "179/tcp"] })),
    ).toEqual([]);
  });
});

describe("users and SSH keys", () => {
  it("refuses a user nobody could log in as", () => {
    expect(check((s) => (s.spec.users = [{ name: "ops" }]))).toEqual([
      expect.stringMatching(/^spec\.users\[0\]@\d+: user 'ops' has no sshAuthorizedKeys/),
    ]);
    expect(check((s) => (s.spec.users = [{ name: "ops", sshAuthorizedKeys: [KEY] }]))).toEqual([]);
  });
  it("decodes each key: damaged base64, truncated data, a type that is not the blob's", () => {
    expect(sshKeyProblem(KEY)).toBeUndefined();
    expect(sshKeyProblem(KEY.replace("deM4 ", "deM "))).toMatch(/base64 is damaged/);
    expect(sshKeyProblem(KEY.replace("L/NjApqNbKN/deM4", ""))).toMatch(/truncated or damaged/);
    expect(sshKeyProblem("ssh-ed25519 AAAA")).toMatch(/truncated: it does not even hold the key type/);
    expect(sshKeyProblem(`ssh-ed25519 ${RSA_BLOB} x`)).toBe(
      "the line says ssh-ed25519 but the key data is a ssh-rsa key",
    );
    expect(sshKeyProblem(`ssh-rsa ${RSA_BLOB} x`)).toBeUndefined();
  });
  it("decodes ECDSA points: one on the curve passes, the same point with one bit flipped does not (sshd refuses it)", () => {
    const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
    const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
    const line = (q: Buffer) =>
      `ecdsa-sha2-nistp256 ${Buffer.concat([field(Buffer.from("ecdsa-sha2-nistp256")), field(Buffer.from("nistp256")), field(q)]).toString("base64")} ops@x`;
    expect(sshKeyProblem(line(point))).toBeUndefined();
    const offCurve = Buffer.from(point);
    offCurve[40]! ^= 0x01;
    expect(sshKeyProblem(line(offCurve))).toBe("its ecdsa-sha2-nistp256 key data is truncated or damaged");
    expect(
      sshKeyProblem(
        `${KEY.split(" ")[0]} ${Buffer.concat([Buffer.from(KEY.split(" ")[1]!, "base64"), Buffer.alloc(4)]).toString("base64")} x`,
      ),
    ).toMatch(/truncated or damaged/);
  });
  it("points at the bad key's line", () => {
    const text = specYaml((s) => (s.spec.users = [{ name: "ops", sshAuthorizedKeys: [KEY, KEY.slice(0, 40)] }]));
    const [finding] = errors(text);
    expect(finding).toMatch(/^spec\.users\[0\]\.sshAuthorizedKeys\[1\]@(\d+): not a usable SSH public key/);
    const line = Number(/@(\d+)/.exec(finding!)![1]);
    expect(text.split("\n")[line - 1]).toContain(KEY.slice(0, 40));
  });
});

describe("the trial's messages", () => {
  it("a tab used as indentation is one finding, at the tab", () => {
    const text = specYaml().replace("\n  vip:", "\n\tvip:");
    const found = errors(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^\(document\)@(\d+): YAML: Tabs are not allowed/);
    const line = Number(/@(\d+)/.exec(found[0]!)![1]);
    expect(text.split("\n")[line - 1]).toMatch(/^\tvip:/);
  });
  it("a VIP outside the nodes' subnet is one finding at vip:", () => {
    expect(check((s) => (s.spec.vip = "192.168.1.100"))).toEqual([
      expect.stringMatching(/^spec\.vip@\d+: 192\.168\.1\.100 is outside 10\.0\.2\.0\/24, the nodes' subnet/),
    ]);
  });
  it("more than 16 nodes: the count, not the list", () => {
    const found = check(
      (s) => (s.spec.nodes = Array.from({ length: 17 }, (_, i) => ({ name: `m${i}`, address: `10.0.2.${10 + i}` }))),
    );
    expect(found).toEqual([expect.stringMatching(/^spec\.nodes@\d+: must have at most 16 entries \(got 17\)$/)]);
  });
});

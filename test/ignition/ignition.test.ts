// The Ignition config of Fedora CoreOS and Flatcar nodes: what lands on the node, in the form
// each OS reads, from the same renderers as the cloud-init files.
import { describe, expect, it } from "vitest";
import { IMAGES } from "../../src/render/images.js";
import { dataUrl } from "../../src/render/ignition/config.js";
import { compile, fromDataUrl, retarget, text } from "./helpers.js";

type Ign = {
  ignition: { version: string };
  passwd?: { users: { name: string; sshAuthorizedKeys?: string[]; groups?: string[] }[] };
  storage: {
    files: {
      path: string;
      mode: number;
      user: { name: string };
      group: { name: string };
      overwrite: boolean;
      contents: { source: string };
    }[];
  };
  systemd?: { units: { name: string; enabled: boolean; contents: string }[] };
};

function ignitionOf(
  example: string,
  os: "fcos" | "flatcar",
  services: "systemd" | "static-pods" = "systemd",
  node = 0,
) {
  const { plan, artifacts } = compile(retarget(example, os, services));
  const name = plan.nodes[node]!.name;
  const raw = text(artifacts, `nodes/${name}/config.ign`);
  return { plan, artifacts, name, raw, ign: JSON.parse(raw) as Ign };
}

const fileAt = (ign: Ign, path: string) => {
  const f = ign.storage.files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} in ${ign.storage.files.map((x) => x.path).join(", ")}`);
  return f;
};

describe("config.ign", () => {
  it("is Ignition 3.3.0, pretty-printed with a fixed key order, and replaces the cloud-init files", () => {
    const { raw, ign, artifacts, name } = ignitionOf("three-node-unicast.yaml", "fcos");
    expect(ign.ignition.version).toBe("3.3.0");
    expect(raw).toBe(`${JSON.stringify(JSON.parse(raw), null, 2)}\n`);
    expect(Object.keys(ign)).toEqual(["ignition", "passwd", "storage", "systemd"]);
    expect(Object.keys(ign.storage.files[0]!)).toEqual(["path", "mode", "user", "group", "overwrite", "contents"]);
    const paths = artifacts
      .filter((a) => a.path.startsWith(`nodes/${name}/`))
      .map((a) => a.path.slice(`nodes/${name}/`.length));
    expect(paths).toEqual(["config.ign", "files/keepalived.conf", "files/check_apiserver.sh", "files/haproxy.cfg"]);
  });

  it("carries the three config files byte for byte, root-owned, with decimal modes", () => {
    const { ign, artifacts, name } = ignitionOf("three-node-unicast.yaml", "flatcar");
    for (const [path, file, mode] of [
      ["/etc/keepalived/keepalived.conf", "files/keepalived.conf", 0o640],
      ["/etc/keepalived/check_apiserver.sh", "files/check_apiserver.sh", 0o755],
      ["/etc/haproxy/haproxy.cfg", "files/haproxy.cfg", 0o644],
    ] as const) {
      const f = fileAt(ign, path);
      expect(fromDataUrl(f.contents.source)).toBe(text(artifacts, `nodes/${name}/${file}`));
      expect(f).toMatchObject({ mode, user: { name: "root" }, group: { name: "root" }, overwrite: true });
    }
    expect(fileAt(ign, "/etc/keepalived/keepalived.conf").mode).toBe(416);
  });

  it("percent-encodes every byte that could end the URL or the JSON string", () => {
    const tricky = 'a "quoted" line\n# 100% — done, \\ back, ?x=1&y=2\n';
    expect(dataUrl(tricky)).toMatch(/^data:,[A-Za-z0-9%\-_.!~*'()]*$/);
    expect(fromDataUrl(dataUrl(tricky))).toBe(tricky);
  });

  it("sets the hostname and the users as the spec names them", () => {
    const { ign, name } = ignitionOf("flatcar-static-pods.yaml", "flatcar", "static-pods");
    expect(fromDataUrl(fileAt(ign, "/etc/hostname").contents.source)).toBe(`${name}\n`);
    expect(ign.passwd!.users).toEqual([
      { name: "core", sshAuthorizedKeys: [expect.stringMatching(/^ssh-ed25519 .* ops@laptop$/)] },
      { name: "deploy", sshAuthorizedKeys: [expect.stringMatching(/deploy@ci$/)], groups: ["sudo"] },
    ]);
    const { ign: noUsers } = ignitionOf("two-masters.yaml", "fcos");
    expect(noUsers.passwd).toBeUndefined();
  });

  it("writes a NetworkManager keyfile on Fedora CoreOS, 0600 as NetworkManager demands", () => {
    const { ign, plan } = ignitionOf("three-node-unicast.yaml", "fcos", "systemd", 1);
    const f = fileAt(ign, "/etc/NetworkManager/system-connections/enp0s8.nmconnection");
    expect(f.mode).toBe(0o600);
    const keyfile = fromDataUrl(f.contents.source);
    expect(keyfile).toContain("[connection]\nid=enp0s8\ntype=ethernet\ninterface-name=enp0s8\n");
    expect(keyfile).toContain(
      `[ipv4]\nmethod=manual\naddress1=${plan.nodes[1]!.address}/24,192.168.56.1\ndns=192.168.56.1;1.1.1.1;\n`,
    );
    expect(ign.storage.files.some((x) => x.path.startsWith("/etc/systemd/network/"))).toBe(false);
  });

  it("writes a systemd-networkd unit on Flatcar, sorted before its DHCP default", () => {
    const { ign } = ignitionOf("two-masters.yaml", "flatcar");
    // the example's cluster NIC is the host-only enp0s8, without a gateway (the NAT NIC has the default route)
    const f = fileAt(ign, "/etc/systemd/network/10-enp0s8.network");
    expect(fromDataUrl(f.contents.source)).toMatch(
      /\[Match\]\nName=enp0s8\n\n\[Network\]\nDHCP=no\nAddress=192\.168\.56\.10\/24\n$/,
    );
    expect(ign.storage.files.some((x) => x.path.includes("NetworkManager"))).toBe(false);
  });

  it("runs keepalived and haproxy as podman containers on Fedora CoreOS and docker ones on Flatcar", () => {
    for (const [os, engine] of [
      ["fcos", "/usr/bin/podman"],
      ["flatcar", "/usr/bin/docker"],
    ] as const) {
      const { ign } = ignitionOf("two-masters.yaml", os);
      expect(ign.systemd!.units.map((u) => [u.name, u.enabled])).toEqual([
        ["keepalived.service", true],
        ["haproxy.service", true],
      ]);
      const [keepalived, haproxy] = ign.systemd!.units.map((u) => u.contents);
      for (const unit of [keepalived!, haproxy!]) {
        expect(unit).toContain(`ExecStart=${engine} run --name `);
        expect(unit).toMatch(/\n    --network host \\\n/);
        expect(unit).toMatch(/--cap-drop ALL/);
        expect(unit).toContain("Restart=on-failure\n");
        expect(unit).toContain("[Install]\nWantedBy=multi-user.target\n");
        // systemd expands % and $ in Exec lines: none may appear
        expect(
          unit
            .split("\n")
            .filter((l) => l.startsWith("Exec"))
            .join("\n"),
        ).not.toMatch(/[%$]/);
      }
      expect(keepalived).toContain("--cap-drop ALL --cap-add NET_ADMIN --cap-add NET_BROADCAST --cap-add NET_RAW \\\n");
      expect(haproxy).toContain("--cap-drop ALL \\\n");
      expect(keepalived).toContain(`    ${IMAGES.keepalived.ref} \\\n`);
      expect(haproxy).toContain(`    ${IMAGES.haproxy.ref} \\\n`);
      const z = os === "fcos" ? ":ro,z" : ":ro";
      expect(keepalived).toContain(`--volume /etc/keepalived/keepalived.conf:/etc/keepalived/keepalived.conf${z} \\\n`);
      expect(keepalived).toContain(
        `--volume /etc/keepalived/check_apiserver.sh:/etc/keepalived/check_apiserver.sh${z} \\\n`,
      );
      expect(haproxy).toContain(`--volume /etc/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg${z} \\\n`);
      expect(keepalived).toContain("--use-file=/etc/keepalived/keepalived.conf\n");
      expect(haproxy).toContain("-W -db -f /usr/local/etc/haproxy/haproxy.cfg\n");
      if (os === "flatcar") expect(keepalived).toContain("Requires=docker.service\n");
    }
  });

  it("pins every image by version, fully qualified", () => {
    for (const image of Object.values(IMAGES))
      expect(image.ref).toMatch(/^docker\.io\/[a-z0-9]+\/[a-z0-9-]+:\d+\.\d+\.\d+(-[a-z0-9]+)?$/);
  });

  it("gives the same bytes every time", () => {
    expect(ignitionOf("three-node-unicast.yaml", "fcos").raw).toBe(ignitionOf("three-node-unicast.yaml", "fcos").raw);
  });

  it("differs between nodes only where the nodes differ", () => {
    const a = ignitionOf("two-masters.yaml", "fcos", "systemd", 0).ign;
    const b = ignitionOf("two-masters.yaml", "fcos", "systemd", 1).ign;
    expect(a.systemd).toEqual(b.systemd);
    expect(fileAt(a, "/etc/haproxy/haproxy.cfg")).toEqual(fileAt(b, "/etc/haproxy/haproxy.cfg"));
    expect(fileAt(a, "/etc/keepalived/keepalived.conf")).not.toEqual(fileAt(b, "/etc/keepalived/keepalived.conf"));
  });
});

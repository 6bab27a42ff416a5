// Unit tests per renderer: the recipe's bugs stay fixed, and every spec value lands where it should.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderCheckScript } from "../../src/render/check-script.js";
import { renderHaproxy } from "../../src/render/haproxy.js";
import { renderNode } from "../../src/render/index.js";
import { renderKeepalived } from "../../src/render/keepalived.js";
import { renderMetaData } from "../../src/render/meta-data.js";
import { renderNetworkConfig } from "../../src/render/network-config.js";
import { examplePlan, planOf } from "../helpers/plan.js";

describe("keepalived.conf", () => {
  const plan = planOf();
  const [first, second] = plan.nodes;
  it("enables script security with a script user", () => {
    const conf = renderKeepalived(plan, first!);
    expect(conf).toMatch(
      /global_defs \{\n    router_id master01\n.*\n    script_user root\n    enable_script_security\n\}/,
    );
  });
  it("gives the first node MASTER 101 and the second BACKUP 100, weight -2", () => {
    expect(renderKeepalived(plan, first!)).toMatch(/state MASTER\n(.*\n){2}    priority 101\n/);
    expect(renderKeepalived(plan, second!)).toMatch(/state BACKUP\n(.*\n){2}    priority 100\n/);
    expect(renderKeepalived(plan, first!)).toMatch(/\n    weight -2\n/);
  });
  it("writes the VIP with its prefix, the health check and track_script", () => {
    const conf = renderKeepalived(plan, first!);
    expect(conf).toContain("        10.0.2.100/24\n");
    expect(conf).toMatch(
      /vrrp_script check_apiserver \{\n    script "\/etc\/keepalived\/check_apiserver.sh"\n    interval 2\n    timeout 5\n    fall 3\n    rise 2\n/,
    );
    expect(conf).toMatch(/track_script \{\n        check_apiserver\n        check_haproxy\n    \}/);
    expect(conf).toMatch(/auth_type PASS\n        auth_pass 42\n/);
  });
  it("checks every second that haproxy runs, with the argument inside the quotes, and faults without it", () => {
    const conf = renderKeepalived(plan, first!);
    // keepalived passes arguments only when the whole command is one quoted string
    expect(conf).toMatch(
      /vrrp_script check_haproxy \{\n    script "\/etc\/keepalived\/check_apiserver.sh haproxy"\n    interval 1\n    timeout 5\n    fall 2\n    rise 1\n(.*\n)    weight 0\n\}/,
    );
  });
  it("writes unicast source and peers", () => {
    const unicast = planOf(
      (s) => ((s.spec.vrrp.unicast = true), s.spec.nodes.push({ name: "m3", address: "10.0.2.12" })),
    );
    const conf = renderKeepalived(unicast, unicast.nodes[1]!);
    expect(conf).toMatch(
      /unicast_src_ip 10\.0\.2\.11\n    unicast_peer \{\n        10\.0\.2\.10\n        10\.0\.2\.12\n    \}/,
    );
    expect(renderKeepalived(plan, first!)).not.toContain("unicast");
  });
  it("renders every node BACKUP with nopreempt and weight 0 when preempt is off", () => {
    const p = planOf((s) => (s.spec.vrrp.preempt = false));
    for (const node of p.nodes) {
      const conf = renderKeepalived(p, node);
      expect(conf).toMatch(/state BACKUP\n    nopreempt\n/);
      expect(conf).toMatch(/vrrp_script check_apiserver \{\n(    .*\n)+    weight 0\n\}/);
    }
  });
  it("leaves authentication out when no password is set", () => {
    expect(
      renderKeepalived(
        planOf((s) => delete s.spec.vrrp.authPass),
        first!,
      ),
    ).not.toContain("authentication");
  });
});

describe("check_apiserver.sh", () => {
  const script = renderCheckScript(planOf());
  it("fails on HTTP errors and asks /healthz on the LB port", () => {
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain('curl -sfk --max-time 2 -o /dev/null "https://localhost:${LB_PORT}/healthz"');
    expect(script).toContain("LB_PORT='1644'\nLB_PORT_HEX='066C'\nVIP='10.0.2.100'\nIFACE='enp0s3'");
  });
});

describe("haproxy.cfg", () => {
  const cfg = renderHaproxy(planOf());
  it("balances TCP with a real /healthz check over TLS", () => {
    expect(cfg).toMatch(/defaults\n    mode tcp\n/);
    expect(cfg).toContain("    option httpchk GET /healthz\n    http-check expect status 200\n");
    expect(cfg).toContain("    server master01 10.0.2.10:6443 check check-ssl verify none\n");
    expect(cfg).toContain("    server master02 10.0.2.11:6443 check check-ssl verify none\n");
    expect(cfg).toContain("    bind *:1644\n");
    // without it, a stopped apiserver fails client connections until the checks notice (rehearsal)
    expect(cfg).toContain(
      "    retries 1\n    # retry a refused connection on another apiserver, not the dead one, until checks mark it down\n    option redispatch\n",
    );
  });
  it("drops root where it is the OS package, as Debian's and Ubuntu's stock config does", () => {
    expect(cfg).toContain("    chroot /var/lib/haproxy\n    user haproxy\n    group haproxy\n");
    const pods = renderHaproxy(planOf((s) => (s.spec.target = { services: "static-pods" })));
    expect(pods).not.toMatch(/chroot|user haproxy/); // the image runs as user haproxy already
  });
  it("never copies the recipe's mistakes", () => {
    expect(cfg).not.toMatch(/ssl-hello-chk|forwardfor|httplog|http-check connect/);
  });
});

describe("cloud-init files", () => {
  const plan = planOf(
    (s) =>
      (s.spec.users = [
        {
          name: "ops",
          sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 ops@x"],
        },
      ]),
  );
  const [userData, metaData, networkConfig, keepalived] = renderNode(plan, plan.nodes[0]!).map((a) =>
    String(a.contents),
  );
  const cloud = parse(userData!, { version: "1.1" });

  it("user-data starts with #cloud-config and installs the packages", () => {
    expect(userData!.split("\n")[0]).toBe("#cloud-config");
    expect(cloud.packages).toEqual(["keepalived", "haproxy", "curl", "ufw"]);
    expect(cloud.package_update).toBe(true);
  });
  it("writes the three files deferred, root-owned, with quoted octal modes and exact contents", () => {
    expect(cloud.write_files.map((f: any) => [f.path, f.owner, f.permissions, f.defer])).toEqual([
      ["/etc/keepalived/keepalived.conf", "root:root", "0640", true],
      ["/etc/keepalived/check_apiserver.sh", "root:root", "0755", true],
      ["/etc/haproxy/haproxy.cfg", "root:root", "0644", true],
    ]);
    expect(cloud.write_files[0].content).toBe(keepalived);
    expect(userData).toContain('permissions: "0640"');
  });
  it("resets ufw, opens kubeadm's control-plane ports, VRRP and the LB port, allows routed traffic, then enables it", () => {
    expect(cloud.runcmd).toEqual([
      ["ufw", "--force", "reset"],
      ["ufw", "default", "deny", "incoming"],
      ["ufw", "default", "allow", "outgoing"],
      ["ufw", "default", "allow", "routed"],
      ["ufw", "allow", "22/tcp", "comment", "SSH"],
      ["ufw", "allow", "6443/tcp", "comment", "kube-apiserver"],
      ["ufw", "allow", "1644/tcp", "comment", "k8s-ha apiserver load balancer"],
      [
        "ufw",
        "allow",
        "proto",
        "tcp",
        "from",
        "10.0.2.11",
        "to",
        "any",
        "port",
        "2379:2380,10250,10257,10259",
        "comment",
        "etcd, kubelet, controller-manager, scheduler from master02",
      ],
      ["ufw", "allow", "from", "10.0.2.11", "to", "224.0.0.18", "comment", "VRRP from master02"],
      ["ufw", "--force", "enable"],
      ["env", "SYSTEMCTL_SKIP_SYSV=1", "systemctl", "enable", "keepalived.service", "haproxy.service"],
      ["systemctl", "restart", "keepalived.service", "haproxy.service"],
    ]);
  });
  it("writes firewall.allow in both forms, and VRRP to the node's own address when unicast", () => {
    const p = planOf(
      (s) => (
        (s.spec.vrrp.unicast = true),
        (s.spec.firewall = { allow: ["30000:32767/tcp", { port: "8472/udp", from: "10.0.2.0/24" }] })
      ),
    );
    const runcmd = parse(String(renderNode(p, p.nodes[0]!)[0]!.contents), { version: "1.1" }).runcmd as string[][];
    expect(runcmd).toContainEqual([
      "ufw",
      "allow",
      "from",
      "10.0.2.11",
      "to",
      "10.0.2.10",
      "comment",
      "VRRP from master02",
    ]);
    expect(runcmd.slice(-5, -2)).toEqual([
      ["ufw", "allow", "30000:32767/tcp"],
      ["ufw", "allow", "from", "10.0.2.0/24", "to", "any", "port", "8472", "proto", "udp"],
      ["ufw", "--force", "enable"],
    ]);
  });
  it("keeps the SSH host keys when a changed seed brings a new instance-id", () => {
    expect(cloud.ssh_deletekeys).toBe(false);
  });
  it("writes the users with their keys", () => {
    expect(cloud.users[0]).toMatchObject({
      name: "ops",
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 ops@x"],
      lock_passwd: true,
    });
  });
  it("omits packages for the golden image and ufw when the firewall is off", () => {
    const p = planOf((s) => ((s.spec.installPackages = false), (s.spec.firewall = { enabled: false })));
    const c = parse(String(renderNode(p, p.nodes[0]!)[0]!.contents), { version: "1.1" });
    expect(c.packages).toBeUndefined();
    expect(c.package_update).toBeUndefined();
    expect(c.runcmd.map((r: string[]) => r.find((word) => !word.includes("=") && word !== "env"))).toEqual([
      "systemctl",
      "systemctl",
    ]);
  });
  it("network-config is version 2 with a 0.0.0.0/0 route, not `to: default`", () => {
    expect(parse(networkConfig!)).toEqual({
      version: 2,
      ethernets: {
        enp0s3: {
          dhcp4: false,
          dhcp6: false,
          addresses: ["10.0.2.10/24"],
          routes: [{ to: "0.0.0.0/0", via: "10.0.2.1" }],
          nameservers: { addresses: ["10.0.2.3"] },
        },
      },
    });
  });
  it("network-config: DHCP NICs, and exactly one default route", () => {
    const dhcpOnly = planOf(
      (s) => (s.spec.network = { interface: "enp0s8", prefixLength: 24, dhcpInterfaces: ["enp0s3", "enp0s9"] }),
    );
    expect(parse(String(renderNode(dhcpOnly, dhcpOnly.nodes[0]!)[2]!.contents)).ethernets).toEqual({
      enp0s8: { dhcp4: false, dhcp6: false, addresses: ["10.0.2.10/24"] },
      enp0s3: { dhcp4: true, dhcp6: false },
      enp0s9: { dhcp4: true, dhcp6: false, "dhcp4-overrides": { "use-routes": false } },
    });
    const gateway = planOf(
      (s) => ((s.spec.network.interface = "enp0s8"), (s.spec.network.dhcpInterfaces = ["enp0s3"])),
    );
    const ethernets = parse(String(renderNode(gateway, gateway.nodes[0]!)[2]!.contents)).ethernets;
    expect(ethernets.enp0s8.routes).toEqual([{ to: "0.0.0.0/0", via: "10.0.2.1" }]);
    expect(ethernets.enp0s3).toEqual({ dhcp4: true, dhcp6: false, "dhcp4-overrides": { "use-routes": false } });
  });
  it("meta-data's instance-id changes exactly when the node's data changes", () => {
    const md = parse(metaData!);
    expect(md["local-hostname"]).toBe("master01");
    expect(md["instance-id"]).toMatch(/^lab-master01-[0-9a-f]{12}$/);
    const node = plan.nodes[0]!;
    expect(renderMetaData(plan, node, userData!, networkConfig!)).toBe(metaData);
    expect(renderMetaData(plan, node, `${userData}\n`, networkConfig!)).not.toBe(metaData);
    const moved = planOf((s) => (s.spec.vip = "10.0.2.101"));
    const movedMeta = String(renderNode(moved, moved.nodes[0]!)[1]!.contents);
    expect(parse(movedMeta)["instance-id"]).not.toBe(md["instance-id"]);
  });
  it("every file says it is generated by k8s-ha", () => {
    for (const text of [userData, metaData, networkConfig, keepalived, renderHaproxy(plan), renderCheckScript(plan)]) {
      expect(text).toContain("generated by k8s-ha — do not edit");
    }
  });
  it("quotes YAML 1.1 specials so cloud-init reads strings as strings", () => {
    const p = planOf((s) => ((s.spec.nodes[0].name = "on"), (s.spec.nodes[1].name = "no")));
    const text = String(renderNode(p, p.nodes[0]!)[0]!.contents);
    expect(parse(text, { version: "1.1" }).hostname).toBe("on");
  });
});

describe("examples", () => {
  it("three-node-unicast resolves its password from the environment and uses weight -30", () => {
    const plan = examplePlan("three-node-unicast.yaml");
    expect(plan.vrrp.authPass).toBe("s3cret");
    const conf = renderKeepalived(plan, plan.nodes[2]!);
    expect(conf).toContain("    priority 130\n");
    expect(conf).toContain("    weight -30\n");
    expect(renderNetworkConfig(plan, plan.nodes[0]!)).toContain("enp0s8:");
  });
});

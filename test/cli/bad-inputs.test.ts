// The corpus of bad inputs: every case runs `k8s-ha render` on the built CLI and must end with
// the right exit code, a message naming the file, the spec path and line, a hint, no stack
// trace — and nothing written. Shared checks run on every row (STYLE.md 9).
import { mkdir, readFile, truncate, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFindings, runCli, tempDir } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";

interface BadCase {
  name: string;
  /** Spec text, or a mutation of the valid base spec. */
  text?: string;
  mutate?: (s: Record<string, any>) => void;
  /** Prepares the spec path itself (directories, huge files, missing files). */
  setup?: (dir: string) => Promise<string>;
  env?: Record<string, string>;
  args?: string[];
  /** The command (default `render SPEC -o DIR`). */
  command?: "render" | "build-image --dry-run";
  /** 3: what the spec points at outside it is unavailable (an external failure, not a finding). */
  code?: 1 | 2 | 3;
  message: RegExp;
  /** The finding's spec path, as printed. */
  path?: string;
  /** Text the reported line of the spec must contain (the place the user must edit). */
  lineHas?: string;
}

const nodes = (s: Record<string, any>) => s.spec.nodes as Record<string, any>[];
/** A Debian 12 qcow2 baked by qemu from its cloud image. */
const qemuBake = (s: Record<string, any>) => {
  s.spec.target = { os: "debian-12" };
  s.spec.image = { builder: "qemu", name: "k8s-ha-debian-12", version: "0.1.0" };
};
const three = (s: Record<string, any>) => nodes(s).push({ name: "master03", address: "10.0.2.12" });

const CASES: BadCase[] = [
  // --- the document's header
  {
    name: "wrong apiVersion",
    mutate: (s) => (s.apiVersion = "v1"),
    message: /unknown apiVersion "v1".*\n.*k8s-ha\/v1alpha1/,
    path: "apiVersion",
    lineHas: "apiVersion",
  },
  {
    name: "wrong kind",
    mutate: (s) => (s.kind = "Deployment"),
    message: /unknown kind "Deployment".*\n.*only kind is Cluster/,
    path: "kind",
    lineHas: "kind",
  },
  {
    name: "missing metadata.name",
    mutate: (s) => (s.metadata = { labels: "x" }),
    message: /missing required field .name./,
    path: "metadata.name",
  },
  {
    name: "cluster name not a DNS label",
    mutate: (s) => (s.metadata.name = "Lab_1"),
    message: /must be a DNS label/,
    path: "metadata.name",
    lineHas: "Lab_1",
  },
  { name: "missing spec", mutate: (s) => delete s.spec, message: /missing required field 'spec'/, path: "spec" },
  {
    name: "top level is a list",
    text: "- apiVersion: k8s-ha/v1alpha1\n",
    message: /must be a mapping, not a list/,
    path: "(document)",
  },
  // --- addresses and subnets
  {
    name: "vip not an address",
    mutate: (s) => (s.spec.vip = "10.0.2"),
    message: /not an IPv4 address/,
    path: "spec.vip",
    lineHas: "vip",
  },
  {
    name: "vip with a leading zero",
    mutate: (s) => (s.spec.vip = "10.0.2.010"),
    message: /not an IPv4 address/,
    path: "spec.vip",
    lineHas: "vip",
  },
  {
    name: "node outside the subnet",
    mutate: (s) => (nodes(s)[1]!.address = "10.0.3.11"),
    message: /10\.0\.3\.11 is outside 10\.0\.2\.0\/24/,
    path: "spec.nodes[1].address",
    lineHas: "10.0.3.11",
  },
  {
    name: "vip in another subnet than the nodes",
    mutate: (s) => (s.spec.vip = "192.168.1.100"),
    message: /192\.168\.1\.100 is outside 10\.0\.2\.0\/24, the nodes' subnet/,
    path: "spec.vip",
    lineHas: "vip",
  },
  {
    name: "a tab as indentation",
    text: specYaml().replace("\n  vip:", "\n\tvip:"),
    message: /Tabs are not allowed/,
    path: "(document)",
    lineHas: "\tvip",
  },
  {
    name: "dhcp on the cluster NIC",
    mutate: (s) => (s.spec.network.dhcpInterfaces = ["enp0s3"]),
    message: /enp0s3 is the cluster NIC/,
    path: "spec.network.dhcpInterfaces[0]",
    lineHas: "enp0s3",
  },
  {
    name: "firewall port 70000",
    mutate: (s) => (s.spec.firewall = { allow: ["70000/tcp"] }),
    message: /port 70000 is outside 1-65535/,
    path: "spec.firewall.allow[0]",
    lineHas: "70000",
  },
  {
    name: "firewall range high to low",
    mutate: (s) => (s.spec.firewall = { allow: ["5000:4000/tcp"] }),
    message: /from a lower to a higher port/,
    path: "spec.firewall.allow[0]",
    lineHas: "5000:4000",
  },
  {
    name: "firewall source not a CIDR",
    mutate: (s) => (s.spec.firewall = { allow: [{ port: "8472/udp", from: "10.0.0.0/40" }] }),
    message: /\/40 is not a prefix length/,
    path: "spec.firewall.allow[0].from",
    lineHas: "10.0.0.0/40",
  },
  {
    name: "a user without keys",
    mutate: (s) => (s.spec.users = [{ name: "ops" }]),
    message: /user 'ops' has no sshAuthorizedKeys/,
    path: "spec.users[0]",
    lineHas: "ops",
  },
  {
    name: "a truncated SSH key",
    mutate: (s) =>
      (s.spec.users = [
        { name: "ops", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOO ops@x"] },
      ]),
    message: /not a usable SSH public key/,
    path: "spec.users[0].sshAuthorizedKeys[0]",
    lineHas: "AAAAC3Nza",
  },
  {
    name: "an SSH key of another type than it says",
    mutate: (s) =>
      (s.spec.users = [
        {
          name: "ops",
          sshAuthorizedKeys: ["ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 ops@x"],
        },
      ]),
    message: /says ssh-rsa but the key data is a ssh-ed25519 key/,
    path: "spec.users[0].sshAuthorizedKeys[0]",
    lineHas: "ssh-rsa",
  },
  {
    name: "vip is a node's address",
    mutate: (s) => (s.spec.vip = "10.0.2.10"),
    message: /10\.0\.2\.10 is also the VIP/,
    path: "spec.nodes[0].address",
    lineHas: "10.0.2.10",
  },
  {
    name: "vip is the network address",
    mutate: (s) => (s.spec.vip = "10.0.2.0"),
    message: /is the network address of 10\.0\.2\.0\/24/,
    path: "spec.vip",
    lineHas: "vip",
  },
  {
    name: "vip is the broadcast address",
    mutate: (s) => (s.spec.vip = "10.0.2.255"),
    message: /is the broadcast address/,
    path: "spec.vip",
    lineHas: "vip",
  },
  {
    name: "duplicate node addresses",
    mutate: (s) => (nodes(s)[1]!.address = "10.0.2.10"),
    message: /already the address of master01/,
    path: "spec.nodes[1].address",
  },
  {
    name: "gateway outside the subnet",
    mutate: (s) => (s.spec.network.gateway = "10.9.9.1"),
    message: /gateway 10\.9\.9\.1 is outside/,
    path: "spec.network.gateway",
    lineHas: "gateway",
  },
  {
    name: "nameserver not an address",
    mutate: (s) => (s.spec.network.nameservers = ["dns.example"]),
    message: /not an IPv4 address/,
    path: "spec.network.nameservers[0]",
    lineHas: "dns.example",
  },
  {
    name: "prefix length too long",
    mutate: (s) => (s.spec.network.prefixLength = 33),
    message: /must be at most 30/,
    path: "spec.network.prefixLength",
    lineHas: "prefixLength",
  },
  {
    name: "prefix length as a string",
    mutate: (s) => (s.spec.network.prefixLength = "24"),
    message: /must be an integer, not string "24"/,
    path: "spec.network.prefixLength",
    lineHas: "prefixLength",
  },
  // --- spec.kubernetes
  {
    name: "kubernetes version too old",
    mutate: (s) => (s.spec.kubernetes = { version: "1.27.3" }),
    message: /Kubernetes 1\.27 is not supported/,
    path: "spec.kubernetes.version",
    lineHas: "1.27.3",
  },
  {
    name: "kubernetes version with a v",
    mutate: (s) => (s.spec.kubernetes = { version: "v1.31.4" }),
    message: /must be a Kubernetes release such as "1\.31\.4"/,
    path: "spec.kubernetes.version",
    lineHas: "v1.31.4",
  },
  {
    name: "podSubnet not a CIDR",
    mutate: (s) => (s.spec.kubernetes = { version: "1.31.4", podSubnet: "10.244.0.0" }),
    message: /must be an IPv4 CIDR/,
    path: "spec.kubernetes.podSubnet",
    lineHas: "podSubnet",
  },
  {
    name: "podSubnet with host bits",
    mutate: (s) => (s.spec.kubernetes = { version: "1.31.4", podSubnet: "10.244.1.0/16" }),
    message: /has host bits set/,
    path: "spec.kubernetes.podSubnet",
    lineHas: "podSubnet",
  },
  {
    name: "podSubnet over the nodes' subnet",
    mutate: (s) => (s.spec.kubernetes = { version: "1.31.4", podSubnet: "10.0.0.0/16" }),
    message: /overlaps the nodes' subnet 10\.0\.2\.0\/24/,
    path: "spec.kubernetes.podSubnet",
    lineHas: "podSubnet",
  },
  {
    name: "serviceSubnet over podSubnet",
    mutate: (s) =>
      (s.spec.kubernetes = { version: "1.31.4", podSubnet: "10.96.0.0/16", serviceSubnet: "10.96.0.0/12" }),
    message: /overlaps podSubnet/,
    path: "spec.kubernetes.serviceSubnet",
    lineHas: "serviceSubnet",
  },
  {
    name: "serviceSubnet over the nodes' subnet",
    mutate: (s) => (s.spec.kubernetes = { version: "1.31.4", serviceSubnet: "10.0.0.0/8" }),
    message: /overlaps the nodes' subnet/,
    path: "spec.kubernetes.serviceSubnet",
    lineHas: "serviceSubnet",
  },
  {
    name: "serviceSubnet too large",
    mutate: (s) => (s.spec.kubernetes = { version: "1.31.4", serviceSubnet: "172.0.0.0/11" }),
    message: /\/11 is larger than the kube-apiserver accepts/,
    path: "spec.kubernetes.serviceSubnet",
    lineHas: "serviceSubnet",
  },
  {
    name: "criSocket injection",
    mutate: (s) => (s.spec.kubernetes = { version: "1.31.4", criSocket: "unix:///run/x.sock; reboot" }),
    message: /must be a unix:\/\/\/ socket URL/,
    path: "spec.kubernetes.criSocket",
    lineHas: "criSocket",
  },
  {
    name: "bootstrap on flatcar",
    mutate: (s) => {
      s.spec.kubernetes = { version: "1.31.4", bootstrap: "init-first" };
      s.spec.target = { os: "flatcar" };
      s.spec.firewall = { enabled: false };
    },
    message: /runs kubeadm from cloud-init/,
    path: "spec.kubernetes.bootstrap",
    lineHas: "bootstrap",
  },
  // --- names and interfaces
  {
    name: "duplicate node names",
    mutate: (s) => (nodes(s)[1]!.name = "master01"),
    message: /node name 'master01' is already used/,
    path: "spec.nodes[1].name",
  },
  {
    name: "node name with capitals",
    mutate: (s) => (nodes(s)[0]!.name = "Master01"),
    message: /must be a DNS label/,
    path: "spec.nodes[0].name",
    lineHas: "Master01",
  },
  {
    name: "node name injection",
    mutate: (s) => (nodes(s)[0]!.name = "m1;reboot"),
    message: /must be a DNS label/,
    path: "spec.nodes[0].name",
    lineHas: "m1;reboot",
  },
  {
    name: "interface too long",
    mutate: (s) => (s.spec.network.interface = "enp0s3enp0s3enp0s3"),
    message: /Linux interface name/,
    path: "spec.network.interface",
    lineHas: "interface",
  },
  {
    name: "interface injection with a newline",
    mutate: (s) => (s.spec.network.interface = "eth0\n}\nglobal_defs {"),
    message: /Linux interface name/,
    path: "spec.network.interface",
    lineHas: "interface",
  },
  {
    name: "interface with a space",
    mutate: (s) => (s.spec.network.interface = "eth 0"),
    message: /Linux interface name/,
    path: "spec.network.interface",
    lineHas: "interface",
  },
  // --- ports
  {
    name: "apiserver port 0",
    mutate: (s) => (s.spec.apiserver.port = 0),
    message: /must be at least 1/,
    path: "spec.apiserver.port",
    lineHas: "port",
  },
  {
    name: "lb port above 65535",
    mutate: (s) => (s.spec.loadBalancer.port = 70000),
    message: /must be at most 65535/,
    path: "spec.loadBalancer.port",
    lineHas: "port",
  },
  {
    name: "lb port equals apiserver port",
    mutate: (s) => (s.spec.loadBalancer.port = 6443),
    message: /both bind it on every node/,
    path: "spec.loadBalancer.port",
    lineHas: "6443",
  },
  {
    name: "port as a float",
    mutate: (s) => (s.spec.apiserver.port = 6443.5),
    message: /must be an integer, not the number 6443.5/,
    path: "spec.apiserver.port",
    lineHas: "port",
  },
  // --- VRRP and failover
  {
    name: "virtual router id 256",
    mutate: (s) => (s.spec.vrrp.virtualRouterId = 256),
    message: /must be at most 255/,
    path: "spec.vrrp.virtualRouterId",
    lineHas: "virtualRouterId",
  },
  {
    name: "priority 255",
    mutate: (s) => nodes(s).forEach((n, i) => (n.priority = 255 - i)),
    message: /must be at most 254/,
    path: "spec.nodes[0].priority",
    lineHas: "priority",
  },
  {
    name: "duplicate priorities",
    mutate: (s) => nodes(s).forEach((n) => (n.priority = 100)),
    message: /priority 100 is also the priority of master01/,
    path: "spec.nodes[1].priority",
  },
  {
    name: "priority on some nodes only",
    mutate: (s) => (nodes(s)[0]!.priority = 150),
    message: /1 of 2 nodes set a priority/,
    path: "spec.nodes[1]",
  },
  {
    name: "the recipe's 200/100 with weight -2",
    mutate: (s) => {
      nodes(s)[0]!.priority = 200;
      nodes(s)[1]!.priority = 100;
      s.spec.healthCheck = { weight: -2 };
    },
    message: /lowers priority 200 by 2 to 198, still at or above priority 100: the VIP never moves/,
    path: "spec.healthCheck.weight",
    lineHas: "weight",
  },
  {
    name: "positive weight",
    mutate: (s) => (s.spec.healthCheck = { weight: 5 }),
    message: /a positive weight \(5\) raises the priority of a node whose check fails/,
    path: "spec.healthCheck.weight",
    lineHas: "weight",
  },
  {
    name: "weight as a word",
    mutate: (s) => (s.spec.healthCheck = { weight: "heavy" }),
    message: /must be "auto" or an integer/,
    path: "spec.healthCheck.weight",
    lineHas: "heavy",
  },
  {
    name: "negative weight without preempt",
    mutate: (s) => ((s.spec.vrrp = { preempt: false }), (s.spec.healthCheck = { weight: -50 })),
    message: /preempt: false.*nopreempt/,
    path: "spec.healthCheck.weight",
    lineHas: "weight",
  },
  {
    name: "authPass over 8 characters",
    mutate: (s) => (s.spec.vrrp.authPass = "123456789"),
    message: /1 to 8 characters/,
    path: "spec.vrrp.authPass",
    lineHas: "authPass",
  },
  {
    name: "authPass injection",
    mutate: (s) => (s.spec.vrrp.authPass = '4"\n}'),
    message: /1 to 8 characters/,
    path: "spec.vrrp.authPass",
    lineHas: "authPass",
  },
  {
    name: "authPass and authPassEnv",
    mutate: (s) => (s.spec.vrrp.authPassEnv = "VRRP_PASS"),
    env: { VRRP_PASS: "x" },
    message: /both authPass and authPassEnv/,
    path: "spec.vrrp.authPassEnv",
    lineHas: "authPassEnv",
  },
  {
    name: "authPassEnv not set",
    mutate: (s) => (s.spec.vrrp = { authPassEnv: "K8S_HA_TEST_UNSET" }),
    message: /K8S_HA_TEST_UNSET is not set or empty/,
    path: "spec.vrrp.authPassEnv",
    lineHas: "authPassEnv",
  },
  {
    name: "authPassEnv holds 9 characters",
    mutate: (s) => (s.spec.vrrp = { authPassEnv: "K8S_HA_TEST_PASS" }),
    env: { K8S_HA_TEST_PASS: "123456789" },
    message: /holds 9 characters; keepalived silently uses only the first 8/,
    path: "spec.vrrp.authPassEnv",
  },
  {
    name: "advert interval in thousandths",
    mutate: (s) => (s.spec.vrrp.advertInterval = 0.333),
    message: /sub-second value in hundredths.*\(got 0\.333\)/,
    path: "spec.vrrp.advertInterval",
    lineHas: "advertInterval",
  },
  {
    name: "sub-second advert over VRRPv3's 40.95 s",
    mutate: (s) => (s.spec.vrrp.advertInterval = 41.5),
    message: /up to 40\.95/,
    path: "spec.vrrp.advertInterval",
    lineHas: "advertInterval",
  },
  {
    name: "sub-second advert with a password (VRRPv3 has none)",
    mutate: (s) => ((s.spec.vrrp.advertInterval = 0.5), (s.spec.vrrp.authPass = "42")),
    message: /needs VRRP version 3, which has no authentication/,
    path: "spec.vrrp.authPass",
    lineHas: "authPass",
  },
  {
    name: "unicast with one node",
    mutate: (s) => (nodes(s).pop(), (s.spec.vrrp.unicast = true)),
    message: /unicast needs at least 2 nodes/,
    path: "spec.vrrp.unicast",
    lineHas: "unicast",
  },
  {
    name: "no nodes",
    mutate: (s) => (s.spec.nodes = []),
    message: /must have at least 1 entry/,
    path: "spec.nodes",
    lineHas: "nodes",
  },
  {
    name: "17 nodes",
    mutate: (s) =>
      (s.spec.nodes = Array.from({ length: 17 }, (_, i) => ({ name: `n${i}`, address: `10.0.2.${20 + i}` }))),
    message: /spec\.nodes  must have at most 16 entries \(got 17\)\n/,
    path: "spec.nodes",
  },
  // --- targets (spec.target): what Fedora CoreOS, Flatcar and containers cannot do
  {
    name: "unknown target OS",
    mutate: (s) => (s.spec.target = { os: "centos" }),
    message: /must be one of "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04", "debian-12", "fcos", "flatcar"/,
    path: "spec.target.os",
    lineHas: "centos",
  },
  {
    name: "unknown image builder",
    mutate: (s) => (s.spec.image = { builder: "vmware" }),
    message: /must be one of "virtualbox", "qemu"/,
    path: "spec.image.builder",
    lineHas: "vmware",
  },
  {
    name: "unknown service mode",
    mutate: (s) => (s.spec.target = { services: "docker" }),
    message: /must be one of "systemd", "static-pods"/,
    path: "spec.target.services",
    lineHas: "docker",
  },
  {
    name: "misspelt target field",
    mutate: (s) => (s.spec.target = { os: "fcos", service: "systemd" }),
    message: /unknown field 'service'.*\n.*did you mean 'services'\?/,
    path: "spec.target.service",
    lineHas: "service",
  },
  {
    name: "ufw firewall on Fedora CoreOS",
    mutate: (s) => ((s.spec.target = { os: "fcos" }), (s.spec.firewall = { enabled: true })),
    message: /Fedora CoreOS has no ufw.*\n.*enabled: false/,
    path: "spec.firewall.enabled",
    lineHas: "enabled",
  },
  {
    name: "apt packages on Flatcar",
    mutate: (s) => (
      (s.spec.target = { os: "flatcar" }),
      (s.spec.firewall = { enabled: false }),
      (s.spec.installPackages = true)
    ),
    message: /Flatcar Container Linux has no apt.*\n.*static pods/,
    path: "spec.installPackages",
    lineHas: "installPackages",
  },
  {
    name: "core without sudo on Flatcar",
    mutate: (s) => (
      (s.spec.target = { os: "flatcar" }),
      (s.spec.firewall = { enabled: false }),
      (s.spec.users = [{ name: "core", sudo: false }])
    ),
    message: /core user of Flatcar Container Linux always has passwordless sudo/,
    path: "spec.users[0].sudo",
    lineHas: "sudo",
  },
  {
    name: "static pods on a privileged port",
    mutate: (s) => ((s.spec.target = { services: "static-pods" }), (s.spec.loadBalancer.port = 443)),
    message: /443 is below 1024: the haproxy container runs as an unprivileged user/,
    path: "spec.loadBalancer.port",
    lineHas: "443",
  },
  {
    name: "Flatcar containers on a privileged port",
    mutate: (s) => (
      (s.spec.target = { os: "flatcar" }),
      (s.spec.firewall = { enabled: false }),
      (s.spec.loadBalancer.port = 80)
    ),
    message: /80 is below 1024/,
    path: "spec.loadBalancer.port",
    lineHas: "80",
  },
  // --- typos, which YAML accepts silently
  {
    name: "misspelt field under spec",
    mutate: (s) => ((s.spec.vipp = s.spec.vip), delete s.spec.vip),
    message: /unknown field 'vipp'.*\n.*did you mean 'vip'\?/,
    path: "spec.vipp",
    lineHas: "vipp",
  },
  {
    name: "misspelt health-check field",
    mutate: (s) => (s.spec.healthCheck = { intervall: 2 }),
    message: /unknown field 'intervall'.*\n.*did you mean 'interval'\?/,
    path: "spec.healthCheck.intervall",
    lineHas: "intervall",
  },
  // --- strings that reach shell, ufw, cloud-init
  {
    name: "ufw rule injection",
    mutate: (s) => (s.spec.firewall = { allow: ["22/tcp; rm -rf /"] }),
    message: /must be PORT/,
    path: "spec.firewall.allow[0]",
    lineHas: "rm -rf",
  },
  {
    name: "user name injection",
    mutate: (s) => (s.spec.users = [{ name: "bob$(id)" }]),
    message: /must be a Linux user name/,
    path: "spec.users[0].name",
    lineHas: "bob",
  },
  {
    name: "ssh key with a newline",
    mutate: (s) => (s.spec.users = [{ name: "ops", sshAuthorizedKeys: ["ssh-ed25519 AAAA\nruncmd: [reboot]"] }]),
    message: /one OpenSSH public key on one line/,
    path: "spec.users[0].sshAuthorizedKeys[0]",
  },
  {
    name: "root as a login user",
    mutate: (s) => (s.spec.users = [{ name: "root" }]),
    message: /root cannot be a cloud-init login user/,
    path: "spec.users[0].name",
    lineHas: "root",
  },
  {
    name: "cluster name injection",
    mutate: (s) => (s.metadata.name = "lab\n}\nvrrp_instance x {"),
    message: /must be a DNS label/,
    path: "metadata.name",
    lineHas: "name",
  },
  {
    name: "gateway injection",
    mutate: (s) => (s.spec.network.gateway = "10.0.2.1; reboot"),
    message: /not an IPv4 address/,
    path: "spec.network.gateway",
    lineHas: "reboot",
  },
  {
    name: "authPassEnv name injection",
    mutate: (s) => (s.spec.vrrp = { authPassEnv: "X$(reboot)" }),
    message: /must be an environment variable name/,
    path: "spec.vrrp.authPassEnv",
    lineHas: "authPassEnv",
  },
  {
    name: "image name injection",
    mutate: (s) => (s.spec.image = { name: 'img"; rm -rf /; "' }),
    message: /must be lowercase letters, digits/,
    path: "spec.image.name",
    lineHas: "rm -rf",
  },
  {
    name: "S3 prefix traversal",
    mutate: (s) => (s.spec.publish = { s3: { bucket: "images", prefix: "../other/" } }),
    message: /must be path segments ending in '\/'/,
    path: "spec.publish.s3.prefix",
    lineHas: "../other/",
  },
  {
    name: "package name injection",
    mutate: (s) => (s.spec.image = { extraPackages: ["curl; reboot"] }),
    message: /must be a Debian package name/,
    path: "spec.image.extraPackages[0]",
    lineHas: "reboot",
  },
  {
    name: "image version not semantic",
    mutate: (s) => (s.spec.image = { version: "latest" }),
    message: /must be a version like 0\.1\.0/,
    path: "spec.image.version",
    lineHas: "latest",
  },
  {
    name: "image version with leading zeros",
    mutate: (s) => (s.spec.image = { version: "01.2.3" }),
    message: /must be a semantic version \(semver\.org\)/,
    path: "spec.image.version",
    lineHas: "01.2.3",
  },
  {
    name: "bad S3 bucket",
    mutate: (s) => (s.spec.publish = { s3: { bucket: "Bad_Bucket" } }),
    message: /must be an S3 bucket name/,
    path: "spec.publish.s3.bucket",
    lineHas: "Bad_Bucket",
  },
  {
    name: "S3 endpoint not a URL",
    mutate: (s) => (s.spec.publish = { s3: { bucket: "images", endpoint: "ftp://x" } }),
    message: /must be an http\(s\) URL/,
    path: "spec.publish.s3.endpoint",
    lineHas: "endpoint",
  },
  // --- YAML itself
  {
    name: "bad indentation",
    text: "apiVersion: k8s-ha/v1alpha1\nkind: Cluster\n metadata:\n  name: lab\n",
    message: /YAML: /,
    path: "(document)",
  },
  {
    name: "tab indentation",
    text: "apiVersion: k8s-ha/v1alpha1\nmetadata:\n\tname: lab\n",
    message: /YAML: Tabs are not allowed/,
    path: "(document)",
    lineHas: "\tname",
  },
  {
    name: "duplicate key",
    text: specYaml() + "kind: Cluster\n",
    message: /YAML: Map keys must be unique.*\n.*each key may appear once/,
    path: "(document)",
  },
  {
    name: "two documents",
    text: specYaml() + "---\n" + specYaml(),
    message: /more than one YAML document/,
    path: "(document)",
  },
  {
    name: "alias bomb",
    text:
      [
        "a: &a [x, x, x, x, x, x, x, x, x, x]",
        ...Array.from(
          { length: 8 },
          (_, i) =>
            `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
              .fill(`*${String.fromCharCode(97 + i)}`)
              .join(", ")}]`,
        ),
      ].join("\n") + "\n",
    message: /aliases expand too far/,
  },
  // --- the file itself
  { name: "empty file", text: "", message: /is empty/ },
  { name: "NUL bytes", text: "apiVersion: k8s-ha/v1alpha1\u0000\n", message: /NUL|YAML/ },
  {
    name: "a 50 MB file",
    setup: async (dir) => {
      const file = join(dir, "huge.yaml");
      await writeFile(file, specYaml());
      await truncate(file, 50 * 1024 * 1024);
      return file;
    },
    message: /is 50\.0 MiB; a cluster spec is at most 1 MiB/,
  },
  {
    name: "a directory instead of a file",
    setup: async (dir) => {
      await mkdir(join(dir, "spec.yaml"));
      return join(dir, "spec.yaml");
    },
    message: /is a directory, not a spec file/,
  },
  { name: "a missing file", setup: async (dir) => join(dir, "nope.yaml"), message: /no such file\n.*k8s-ha init/ },
  // --- the command line
  { name: "unknown option", args: ["--bogus"], code: 2, message: /unknown option '--bogus'/ },
  { name: "output is a file", args: ["-o", "FILE"], code: 2, message: /exists and is not a directory/ },
  // --- what build-image --dry-run checks (a qemu bake: Packer, qemu and OVMF are installed for CI)
  {
    name: "build-image --dry-run: the cloud image is a missing file",
    command: "build-image --dry-run",
    mutate: qemuBake,
    env: { PKR_VAR_iso_url: "/nonexistent/debian-12.qcow2", K8S_HA_QEMU_ACCEL: "tcg" },
    code: 3,
    message:
      /the cloud image \/nonexistent\/debian-12\.qcow2 \(PKR_VAR_iso_url\): \/nonexistent\/debian-12\.qcow2 does not exist/,
  },
  {
    name: "build-image --dry-run: nothing answers at the cloud image's URL",
    command: "build-image --dry-run",
    mutate: qemuBake,
    // a loopback port nothing listens on (47, unassigned; not one fetch refuses): refused at once
    env: { PKR_VAR_iso_url: "http://127.0.0.1:47/debian-12.qcow2", K8S_HA_QEMU_ACCEL: "tcg" },
    code: 3,
    message:
      /the cloud image http:\/\/127\.0\.0\.1:47\/debian-12\.qcow2 \(PKR_VAR_iso_url\) is not reachable: ECONNREFUSED/,
  },
];

describe.concurrent("bad inputs", () => {
  let root: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    root = tempDir("k8s-ha-bad-");
  });
  afterAll(async () => root.cleanup());

  it("holds at least 40 cases with distinct names", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const dir = join(root.dir, `case-${i}`);
      await mkdir(dir);
      const specPath = c.setup ? await c.setup(dir) : join(dir, "k8s-ha.yaml");
      if (!c.setup) await writeFile(specPath, c.text ?? specYaml(c.mutate));
      const out = join(dir, "out");
      const args = (c.args ?? []).map((a) => (a === "FILE" ? specPath : a));
      const command =
        c.command === "build-image --dry-run"
          ? ["build-image", specPath, "-o", out, "--dry-run"]
          : ["render", specPath, ...(c.args?.includes("-o") ? [] : ["-o", out])];
      const result = await runCli([...command, ...args], {
        cwd: dir,
        env: c.env,
      });

      // exit code, message, hint, no stack trace
      expect(result.code, result.stderr).toBe(c.code ?? 1);
      expect(result.stderr).toMatch(c.message);
      expect(result.stderr).toMatch(/hint: \S/);
      expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
      expect(result.stderr).not.toMatch(/internal error/);
      // nothing written
      expect(existsSync(out)).toBe(false);
      if (c.code === 2 || c.code === 3) return;

      // names the file, and the path and line where the user must edit
      expect(result.stderr).toContain(specPath);
      if (c.path === undefined) return;
      const findings = parseFindings(result.stderr);
      const documentLevel = c.path === "(document)";
      const finding = documentLevel
        ? findings.find((f) => f.file === specPath)
        : findings.find((f) => f.path === c.path);
      expect(finding, `no finding at ${c.path} in:\n${result.stderr}`).toBeDefined();
      expect(finding!.line).toBeGreaterThan(0);
      if (c.lineHas) {
        const lines = (await readFile(specPath, "utf8")).split("\n");
        expect(lines[finding!.line - 1]).toContain(c.lineHas);
      }
    });
  }
});

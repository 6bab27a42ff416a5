// The cluster spec, apiVersion k8s-ha/v1alpha1, as a zod schema (see DESIGN.md "The spec").
// Shape and single-field rules live here; rules that relate fields to each other (subnets,
// priorities against the health-check weight, duplicates) live in check.ts, so that every
// finding can carry a hint written for its own case.
//
// Every string that ends up in a generated file is constrained to a safe character set here:
// the renderers also refuse unsafe values (render/quote.ts), so a bypass of one layer is caught
// by the other.
import { z } from "../zod.js";
import { MIN_WEIGHT } from "./failover.js";
import { isIPv4 } from "./ipv4.js";
import { IMAGE_BUILDERS, SERVICE_MODES, TARGET_OSES } from "./targets.js";
import { isCidr } from "./cidr.js";
import { BOOTSTRAP_MODES, CRI_SOCKET, DEFAULT_CRI_SOCKET, KUBERNETES_VERSION } from "./kubernetes.js";

export const API_VERSION = "k8s-ha/v1alpha1";
export const KIND = "Cluster";

/** RFC 1123 label: lowercase letters, digits and '-', 1..63 chars, not starting or ending with '-'. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Linux IFNAMSIZ is 16 with the NUL: at most 15 bytes, no '/', ':', whitespace; we also refuse
 * quotes and shell metacharacters, which no real NIC name has. */
export const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
/** keepalived reads auth_pass as one word, and '#' or '!' start a comment: keep to a plain set. */
export const AUTH_PASS = /^[A-Za-z0-9._~+=@%^-]{1,8}$/;
/** Environment variable names as POSIX shells accept them. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** ufw rules we accept in firewall.allow: PORT[:PORT][/tcp|/udp]; check.ts checks the numbers. */
export const UFW_RULE = /^[0-9]{1,5}(:[0-9]{1,5})?(\/(tcp|udp))?$/;
/** A firewall source: an IPv4 address or CIDR; check.ts checks the numbers. */
export const IPV4_SOURCE = /^[0-9]{1,3}(\.[0-9]{1,3}){3}(\/[0-9]{1,2})?$/;
/** One OpenSSH public key on one line: type, base64 blob, optional comment without control chars. */
export const SSH_KEY =
  /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [\x20-\x7e]{0,200})?$/;
/** Linux user names as useradd accepts them by default. */
export const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** Debian package names (policy 5.6.1), optionally pinned with =version. */
export const DEB_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/;
/** Image names also become file names and S3 key segments: a DNS label that may hold dots. */
export const IMAGE_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;
/** Semantic-ish version for images: digits, dots, and a plain pre-release tag. */
export const IMAGE_VERSION = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]{1,32})?$/;
/**
 * What semver.org (and node-semver's valid()) adds to IMAGE_VERSION: no leading zeros, no empty
 * pre-release identifier, numbers that are safe integers. A regex, not node-semver: that builds
 * some forty regexes when it is imported, and every command that reads a spec imports this file.
 */
const PRERELEASE_ID = "(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)";
const SEMVER = new RegExp(
  `^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(?:-${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*)?$`,
);
export function isSemver(version: string): boolean {
  const match = SEMVER.exec(version);
  return match !== null && match.slice(1, 4).every((n) => Number(n) <= Number.MAX_SAFE_INTEGER);
}
/** S3 bucket names (the virtual-host-safe rules). */
export const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** S3 key prefix: plain path segments ending in '/', or empty; no '.' or '..' segments. */
export const S3_PREFIX = /^((?!\.\.?\/)[A-Za-z0-9._-]+\/)*$/;
export const AWS_REGION = /^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$|^[a-z0-9-]{1,32}$/;

/** VRRP v3 counts the advert interval in centiseconds in 12 bits: at most 40.95 s. */
export const MAX_V3_ADVERT = 40.95;

/** keepalived's VRRP version for an advert interval: 3 only for a sub-second (fractional) one, so whole-second specs keep v2's bytes. */
export function vrrpVersion(advertInterval: number): 2 | 3 {
  return Number.isInteger(advertInterval) ? 2 : 3;
}

const ipv4 = z.string().refine(isIPv4, { message: "not an IPv4 address in dotted-quad form" });
const port = z.int().min(1).max(65535);

const dnsLabel = z
  .string()
  .regex(DNS_LABEL, { message: "must be a DNS label: lowercase letters, digits and '-', at most 63" });

const node = z.strictObject({
  name: dnsLabel,
  address: ipv4,
  priority: z.int().min(1).max(254).optional(),
});

const vrrp = z
  .strictObject({
    virtualRouterId: z.int().min(1).max(255).default(51),
    authPass: z
      .string()
      .regex(AUTH_PASS, { message: "must be 1 to 8 characters of A-Z a-z 0-9 . _ ~ + = @ % ^ -" })
      .optional(),
    authPassEnv: z.string().regex(ENV_NAME, { message: "must be an environment variable name" }).optional(),
    // whole seconds (VRRP v2, 1..255), or down to 0.01 s in centiseconds up to 40.95 s, which
    // keepalived only does with VRRP version 3 (rendered as vrrp_version 3); see vrrpVersion()
    advertInterval: z
      .number()
      .min(0.01)
      .max(255)
      .refine(
        (s) =>
          Number.isInteger(s) ||
          (s <= MAX_V3_ADVERT &&
            Number.isInteger(Math.round(s * 100)) &&
            Math.abs(s * 100 - Math.round(s * 100)) < 1e-9),
        {
          message: `must be whole seconds from 1 to 255, or a sub-second value in hundredths (e.g. 0.5) up to ${MAX_V3_ADVERT}`,
        },
      )
      .default(1),
    unicast: z.boolean().default(false),
    preempt: z.boolean().default(true),
  })
  .prefault({});

const healthCheck = z
  .strictObject({
    interval: z.int().min(1).max(60).default(2),
    fall: z.int().min(1).max(30).default(3),
    rise: z.int().min(1).max(30).default(2),
    weight: z.union([z.literal("auto"), z.int().min(MIN_WEIGHT).max(0)]).default("auto"),
  })
  .prefault({});

const ufwRule = z.string().regex(UFW_RULE, { message: "must be PORT, PORT/tcp, PORT/udp or LOW:HIGH/tcp|udp" });

const firewall = z
  .strictObject({
    enabled: z.boolean().default(true),
    allowSsh: z.boolean().default(true),
    allow: z
      .array(
        z.union([
          ufwRule,
          z.strictObject({
            port: ufwRule,
            from: z
              .string()
              .regex(IPV4_SOURCE, { message: "must be an IPv4 address or CIDR, e.g. 192.168.56.0/24" })
              .optional(),
          }),
        ]),
      )
      .max(64)
      .default([]),
  })
  .prefault({});

const user = z.strictObject({
  name: z.string().regex(USER_NAME, { message: "must be a Linux user name: [a-z_][a-z0-9_-]{0,31}" }),
  sshAuthorizedKeys: z
    .array(z.string().regex(SSH_KEY, { message: "must be one OpenSSH public key on one line" }))
    .max(32)
    .default([]),
  sudo: z.boolean().default(true),
});

const image = z
  .strictObject({
    builder: z.enum(IMAGE_BUILDERS).default("virtualbox").meta({
      description:
        "virtualbox: an OVA baked from the installer ISO; qemu: a qcow2 baked from the distribution's cloud image (KVM, libvirt, Proxmox)",
    }),
    name: z
      .string()
      .regex(IMAGE_NAME, { message: "must be lowercase letters, digits, '.' and '-', at most 63" })
      .default("k8s-ha-ubuntu-20.04"),
    version: z
      .string()
      .regex(IMAGE_VERSION, { message: "must be a version like 0.1.0" })
      .refine(isSemver, {
        message: "must be a semantic version (semver.org): numbers without leading zeros, like 0.1.0",
      })
      .default("0.1.0"),
    cpus: z.int().min(1).max(64).default(2),
    memoryMiB: z.int().min(1024).max(262144).default(2048),
    diskMiB: z.int().min(8192).max(2097152).default(20480),
    extraPackages: z
      .array(z.string().regex(DEB_PACKAGE, { message: "must be a Debian package name" }))
      .max(128)
      .default([]),
  })
  .prefault({});

export { SERVICE_MODES, TARGET_OSES } from "./targets.js";

const cidr = z.string().refine(isCidr, { message: "must be an IPv4 CIDR such as 10.244.0.0/16" });

/** Optional: with it, render writes kubeadm configs and build-image installs Kubernetes (docs/kubeadm.md). */
const kubernetes = z.strictObject({
  version: z
    .string()
    .regex(KUBERNETES_VERSION, { message: 'must be a Kubernetes release such as "1.31.4" (quoted, no leading v)' }),
  podSubnet: cidr.optional(),
  serviceSubnet: cidr.optional(),
  criSocket: z.string().regex(CRI_SOCKET, { message: "must be a unix:/// socket URL" }).default(DEFAULT_CRI_SOCKET),
  bootstrap: z.enum(BOOTSTRAP_MODES).default("off").meta({
    description:
      "init-first: cloud-init runs `kubeadm init --config … --upload-certs` on the first node at first boot (needs the Kubernetes golden image)",
  }),
});

const target = z
  .strictObject({
    os: z.enum(TARGET_OSES).default("ubuntu-20.04").meta({
      description:
        "ubuntu-20.04, ubuntu-22.04, ubuntu-24.04, debian-12: cloud-init NoCloud files; fcos, flatcar: one Ignition config per node (nodes/<node>/config.ign)",
    }),
    services: z.enum(SERVICE_MODES).default("systemd").meta({
      description:
        "systemd: OS services (Ubuntu packages; on fcos/flatcar, units running containers); static-pods: kubelet manifests",
    }),
  })
  .prefault({});

const s3 = z.strictObject({
  bucket: z.string().regex(S3_BUCKET, { message: "must be an S3 bucket name (lowercase, 3..63)" }),
  prefix: z.string().regex(S3_PREFIX, { message: "must be path segments ending in '/', e.g. k8s-ha/" }).default(""),
  region: z.string().regex(AWS_REGION, { message: "must be a region name such as us-east-1" }).default("us-east-1"),
  endpoint: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
  forcePathStyle: z.boolean().default(false),
});

export const specSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: z.strictObject({ name: dnsLabel }),
  spec: z.strictObject({
    vip: ipv4,
    network: z.strictObject({
      interface: z.string().regex(INTERFACE_NAME, {
        message: "must be a Linux interface name: at most 15 of A-Z a-z 0-9 _ . -",
      }),
      prefixLength: z.int().min(8).max(30),
      gateway: ipv4.optional(),
      nameservers: z.array(ipv4).max(3).default([]),
      dhcpInterfaces: z
        .array(
          z
            .string()
            .regex(INTERFACE_NAME, { message: "must be a Linux interface name: at most 15 of A-Z a-z 0-9 _ . -" }),
        )
        .max(8)
        .default([])
        .meta({
          description:
            "other NICs, configured by DHCP (e.g. [enp0s3], VirtualBox's NAT adapter, when the cluster NIC is enp0s8)",
        }),
    }),
    apiserver: z.strictObject({ port: port.default(6443) }).prefault({}),
    loadBalancer: z
      .strictObject({
        port: port.default(1644),
        balance: z.enum(["roundrobin", "leastconn", "source"]).default("roundrobin"),
      })
      .prefault({}),
    nodes: z.array(node).min(1).max(16),
    vrrp,
    healthCheck,
    firewall,
    target,
    // No default here: true is Ubuntu's default (plan.ts), and on fcos/flatcar, which have no
    // packages to install, an explicit true is a finding rather than a silently ignored field.
    installPackages: z.boolean().optional().meta({
      description:
        "ubuntu-20.04: cloud-init installs the packages with apt (default true); false for the k8s-ha golden image. Not allowed to be true on fcos/flatcar.",
    }),
    users: z.array(user).max(32).default([]),
    kubernetes: kubernetes.optional(),
    image,
    publish: z.strictObject({ s3 }).optional(),
  }),
});

/** The spec as written (defaults not yet applied). */
export type SpecInput = z.input<typeof specSchema>;
/** The spec with every default applied. */
export type Spec = z.output<typeof specSchema>;
export type NodeSpec = Spec["spec"]["nodes"][number];
export type ImageSpec = Spec["spec"]["image"];
export type TargetSpec = Spec["spec"]["target"];
export type FirewallRule = Spec["spec"]["firewall"]["allow"][number];
export type KubernetesSpec = NonNullable<Spec["spec"]["kubernetes"]>;
export type S3Spec = NonNullable<Spec["spec"]["publish"]>["s3"];

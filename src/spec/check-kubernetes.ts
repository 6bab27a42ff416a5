// Rules for spec.kubernetes: a minor kubeadm configs can be rendered for, subnets that are
// networks (not hosts), that do not overlap each other or the nodes' subnet, and sizes the
// apiserver and controller-manager accept; bootstrap only where cloud-init can run kubeadm.
import { canonicalCidr, cidrsOverlap, parseCidr, type Cidr } from "./cidr.js";
import type { Finding, Locator } from "./findings.js";
import { cidrOf } from "./ipv4.js";
import { kubernetesMinor, MAX_KUBERNETES_MINOR, MIN_KUBERNETES_MINOR } from "./kubernetes.js";
import type { Spec } from "./schema.js";
import { isIgnitionOs, OS_NAMES } from "./targets.js";

/** kube-apiserver refuses a larger IPv4 service range ("the mask must be >= 12"). */
const MIN_SERVICE_PREFIX = 12;
/** The controller-manager gives each node a /24 of the pod subnet (node-cidr-mask-size). */
const NODE_POD_PREFIX = 24;

export function checkKubernetes(spec: Spec, at: Locator): Finding[] {
  const k8s = spec.spec.kubernetes;
  if (!k8s) return [];
  const path = (...rest: string[]) => ["spec", "kubernetes", ...rest];
  const findings: Finding[] = [];
  const minor = kubernetesMinor(k8s.version);
  if (minor < MIN_KUBERNETES_MINOR || minor > MAX_KUBERNETES_MINOR) {
    findings.push(
      at.error(
        path("version"),
        `Kubernetes 1.${minor} is not supported: k8s-ha renders kubeadm configs for 1.${MIN_KUBERNETES_MINOR} to 1.${MAX_KUBERNETES_MINOR}`,
        `use a release from 1.${MIN_KUBERNETES_MINOR}.0 to 1.${MAX_KUBERNETES_MINOR}.x, e.g. "1.31.4"`,
      ),
    );
  }
  const nodeSubnet = parseCidr(cidrOf(spec.spec.vip, spec.spec.network.prefixLength))!;
  const subnets: { key: "podSubnet" | "serviceSubnet"; cidr: Cidr }[] = [];
  for (const key of ["podSubnet", "serviceSubnet"] as const) {
    const text = k8s[key];
    if (text === undefined) continue;
    const cidr = parseCidr(text)!;
    const canonical = canonicalCidr(cidr);
    if (canonical !== text) {
      findings.push(at.error(path(key), `${text} has host bits set`, `write the network: ${canonical}`));
      continue;
    }
    if (cidrsOverlap(cidr, nodeSubnet)) {
      findings.push(
        at.error(
          path(key),
          `${text} overlaps the nodes' subnet ${canonicalCidr(nodeSubnet)}`,
          "pick a range no node, VIP or router uses, e.g. 10.244.0.0/16 for pods, 10.96.0.0/12 for services",
        ),
      );
      continue;
    }
    subnets.push({ key, cidr });
  }
  const pods = subnets.find((s) => s.key === "podSubnet");
  const services = subnets.find((s) => s.key === "serviceSubnet");
  if (pods && services && cidrsOverlap(pods.cidr, services.cidr)) {
    findings.push(
      at.error(
        path("serviceSubnet"),
        `${k8s.serviceSubnet} overlaps podSubnet ${k8s.podSubnet}`,
        "Service IPs and pod IPs must come from separate ranges",
      ),
    );
  }
  if (services && services.cidr.prefixLength < MIN_SERVICE_PREFIX) {
    findings.push(
      at.error(
        path("serviceSubnet"),
        `/${services.cidr.prefixLength} is larger than the kube-apiserver accepts`,
        `use a prefix of /${MIN_SERVICE_PREFIX} or longer, e.g. 10.96.0.0/12`,
      ),
    );
  }
  if (pods && pods.cidr.prefixLength >= NODE_POD_PREFIX) {
    findings.push(
      at.error(
        path("podSubnet"),
        `/${pods.cidr.prefixLength} leaves no room: every node takes a /${NODE_POD_PREFIX} of the pod subnet`,
        "use e.g. 10.244.0.0/16 (what flannel expects)",
      ),
    );
  }
  if (k8s.bootstrap === "init-first" && isIgnitionOs(spec.spec.target.os)) {
    findings.push(
      at.error(
        path("bootstrap"),
        `bootstrap: init-first runs kubeadm from cloud-init, which ${OS_NAMES[spec.spec.target.os]} does not use`,
        "remove bootstrap and run kubeadm init by hand",
      ),
    );
  } else if (k8s.bootstrap === "init-first" && spec.spec.installPackages !== false) {
    findings.push(
      at.warning(
        path("bootstrap"),
        "bootstrap: init-first needs kubeadm on the image, but installPackages is not false (a stock image has no kubeadm)",
        "build the golden image with spec.kubernetes set and set installPackages: false",
      ),
    );
  }
  return findings;
}

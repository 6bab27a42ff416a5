// kubeadm.yaml: every field path the renderer writes must exist in kubeadm's own Go types for the
// apiVersion it declares (cmd/kubeadm/app/apis/kubeadm/v1beta3|v1beta4/types.go, json tags), and
// each node must advertise and register with its cluster address.
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { renderInitConfig, renderJoinConfig } from "../../src/render/kubeadm.js";
import { renderNodes } from "../../src/render/index.js";
import { planOf } from "../helpers/plan.js";

const SECRETS = {
  token: "abcdef.0123456789abcdef",
  caCertHash: `sha256:${"ab".repeat(32)}`,
  certificateKey: "0f".repeat(32),
};

// Field paths of the types, transcribed from the json tags ("[]" = a list item). Only the
// structs k8s-ha writes into are expanded; their other fields are listed so a typo cannot hide.
const API_ENDPOINT = ["advertiseAddress", "bindPort"];
const NODE_REGISTRATION_COMMON = ["name", "criSocket", "taints", "ignorePreflightErrors", "imagePullPolicy"];
const FIELDS: Record<string, Record<string, string[]>> = {
  "kubeadm.k8s.io/v1beta3": {
    InitConfiguration: [
      "bootstrapTokens",
      "nodeRegistration",
      "localAPIEndpoint",
      "certificateKey",
      "skipPhases",
      "patches",
      ...NODE_REGISTRATION_COMMON.map((f) => `nodeRegistration.${f}`),
      "nodeRegistration.kubeletExtraArgs",
      "nodeRegistration.kubeletExtraArgs.node-ip",
      ...API_ENDPOINT.map((f) => `localAPIEndpoint.${f}`),
    ],
    ClusterConfiguration: [
      "etcd",
      "networking",
      "kubernetesVersion",
      "controlPlaneEndpoint",
      "apiServer",
      "controllerManager",
      "scheduler",
      "dns",
      "certificatesDir",
      "imageRepository",
      "featureGates",
      "clusterName",
      "networking.serviceSubnet",
      "networking.podSubnet",
      "networking.dnsDomain",
    ],
    JoinConfiguration: [
      "nodeRegistration",
      "caCertPath",
      "discovery",
      "controlPlane",
      "skipPhases",
      "patches",
      ...NODE_REGISTRATION_COMMON.map((f) => `nodeRegistration.${f}`),
      "nodeRegistration.kubeletExtraArgs",
      "nodeRegistration.kubeletExtraArgs.node-ip",
      "discovery.bootstrapToken",
      "discovery.file",
      "discovery.tlsBootstrapToken",
      "discovery.timeout",
      "discovery.bootstrapToken.token",
      "discovery.bootstrapToken.apiServerEndpoint",
      "discovery.bootstrapToken.caCertHashes",
      "discovery.bootstrapToken.caCertHashes[]",
      "discovery.bootstrapToken.unsafeSkipCAVerification",
      "controlPlane.localAPIEndpoint",
      "controlPlane.certificateKey",
      ...API_ENDPOINT.map((f) => `controlPlane.localAPIEndpoint.${f}`),
    ],
  },
  "kubeadm.k8s.io/v1beta4": {
    InitConfiguration: [
      "bootstrapTokens",
      "dryRun",
      "nodeRegistration",
      "localAPIEndpoint",
      "certificateKey",
      "skipPhases",
      "patches",
      "timeouts",
      ...NODE_REGISTRATION_COMMON.map((f) => `nodeRegistration.${f}`),
      "nodeRegistration.imagePullSerial",
      "nodeRegistration.kubeletExtraArgs",
      "nodeRegistration.kubeletExtraArgs[]",
      "nodeRegistration.kubeletExtraArgs[].name",
      "nodeRegistration.kubeletExtraArgs[].value",
      ...API_ENDPOINT.map((f) => `localAPIEndpoint.${f}`),
    ],
    ClusterConfiguration: [
      "etcd",
      "networking",
      "kubernetesVersion",
      "controlPlaneEndpoint",
      "apiServer",
      "controllerManager",
      "scheduler",
      "dns",
      "proxy",
      "certificatesDir",
      "imageRepository",
      "featureGates",
      "clusterName",
      "encryptionAlgorithm",
      "certificateValidityPeriod",
      "caCertificateValidityPeriod",
      "networking.serviceSubnet",
      "networking.podSubnet",
      "networking.dnsDomain",
    ],
    JoinConfiguration: [
      "dryRun",
      "nodeRegistration",
      "caCertPath",
      "discovery",
      "controlPlane",
      "skipPhases",
      "patches",
      "timeouts",
      ...NODE_REGISTRATION_COMMON.map((f) => `nodeRegistration.${f}`),
      "nodeRegistration.imagePullSerial",
      "nodeRegistration.kubeletExtraArgs",
      "nodeRegistration.kubeletExtraArgs[]",
      "nodeRegistration.kubeletExtraArgs[].name",
      "nodeRegistration.kubeletExtraArgs[].value",
      "discovery.bootstrapToken",
      "discovery.file",
      "discovery.tlsBootstrapToken",
      "discovery.bootstrapToken.token",
      "discovery.bootstrapToken.apiServerEndpoint",
      "discovery.bootstrapToken.caCertHashes",
      "discovery.bootstrapToken.caCertHashes[]",
      "discovery.bootstrapToken.unsafeSkipCAVerification",
      "controlPlane.localAPIEndpoint",
      "controlPlane.certificateKey",
      ...API_ENDPOINT.map((f) => `controlPlane.localAPIEndpoint.${f}`),
    ],
  },
  "kubelet.config.k8s.io/v1beta1": { KubeletConfiguration: ["cgroupDriver"] },
};

/** Every key path in a document, list items as "[]", the top-level apiVersion and kind left out. */
function fieldPaths(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value))
    return [...new Set([`${prefix}[]`, ...value.flatMap((item) => fieldPaths(item, `${prefix}[]`))])];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value)
    .filter(([key]) => prefix || (key !== "apiVersion" && key !== "kind"))
    .flatMap(([key, child]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      return [path, ...fieldPaths(child, path)];
    });
}

function docs(text: string): Record<string, any>[] {
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS();
  });
}

function expectKnownFields(text: string): string[] {
  const kinds: string[] = [];
  for (const doc of docs(text)) {
    const allowed = FIELDS[doc.apiVersion]?.[doc.kind];
    expect(allowed, `${doc.apiVersion} ${doc.kind}`).toBeDefined();
    const unknown = fieldPaths(doc).filter((p) => !allowed!.includes(p));
    expect(unknown, `${doc.kind} fields not in kubeadm's types`).toEqual([]);
    kinds.push(`${doc.apiVersion} ${doc.kind}`);
  }
  return kinds;
}

const k8s =
  (version: string, extra: Record<string, unknown> = {}) =>
  (s: Record<string, any>) => {
    s.spec.kubernetes = { version, ...extra };
  };

describe.each([
  ["1.28.15", "kubeadm.k8s.io/v1beta3"],
  ["1.30.0", "kubeadm.k8s.io/v1beta3"],
  ["1.31.4", "kubeadm.k8s.io/v1beta4"],
  ["1.36.1", "kubeadm.k8s.io/v1beta4"],
])("Kubernetes %s", (version, apiVersion) => {
  const plan = planOf(k8s(version, { podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12" }));
  const [first, second] = plan.nodes;

  it(`renders ${apiVersion} Init, Cluster and Kubelet configs with only kubeadm's fields`, () => {
    const text = renderInitConfig(plan, first!);
    expect(expectKnownFields(text)).toEqual([
      `${apiVersion} InitConfiguration`,
      `${apiVersion} ClusterConfiguration`,
      "kubelet.config.k8s.io/v1beta1 KubeletConfiguration",
    ]);
    const [init, cluster, kubelet] = docs(text);
    expect(init!.localAPIEndpoint).toEqual({ advertiseAddress: "10.0.2.10", bindPort: 6443 });
    expect(init!.nodeRegistration.name).toBe("master01");
    const nodeIp = apiVersion.endsWith("v1beta4")
      ? [{ name: "node-ip", value: "10.0.2.10" }]
      : { "node-ip": "10.0.2.10" };
    expect(init!.nodeRegistration.kubeletExtraArgs).toEqual(nodeIp);
    expect(cluster).toMatchObject({
      controlPlaneEndpoint: "10.0.2.100:1644",
      kubernetesVersion: `v${version}`,
      networking: { podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12" },
    });
    expect(kubelet!.cgroupDriver).toBe("systemd");
  });

  it(`renders a ${apiVersion} control-plane JoinConfiguration with only kubeadm's fields`, () => {
    const text = renderJoinConfig(plan, second!, SECRETS);
    expect(expectKnownFields(text)).toEqual([`${apiVersion} JoinConfiguration`]);
    const [join] = docs(text);
    expect(join!.discovery.bootstrapToken).toEqual({
      apiServerEndpoint: "10.0.2.100:1644",
      token: SECRETS.token,
      caCertHashes: [SECRETS.caCertHash],
    });
    expect(join!.controlPlane).toEqual({
      localAPIEndpoint: { advertiseAddress: "10.0.2.11", bindPort: 6443 },
      certificateKey: SECRETS.certificateKey,
    });
    expect(join!.nodeRegistration.name).toBe("master02");
  });
});

describe("the field table catches what it is for", () => {
  it("rejects a misspelt field and a v1beta4 field in v1beta3", () => {
    const misspelt =
      "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalApiEndpoint: {advertiseAddress: 1.2.3.4}\n";
    expect(() => expectKnownFields(misspelt)).toThrow(/not in kubeadm's types/);
    const listInBeta3 =
      "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nnodeRegistration: {kubeletExtraArgs: [{name: node-ip, value: 1.2.3.4}]}\n";
    expect(() => expectKnownFields(listInBeta3)).toThrow(/not in kubeadm's types/);
  });
});

describe("kubeadm.yaml in the rendered output", () => {
  it("is absent without spec.kubernetes, and the first node's only with it", () => {
    expect(renderNodes(planOf()).some((a) => a.path.endsWith("kubeadm.yaml"))).toBe(false);
    const paths = renderNodes(planOf(k8s("1.31.4")))
      .filter((a) => a.path.endsWith("kubeadm.yaml"))
      .map((a) => a.path);
    expect(paths).toEqual(["nodes/master01/kubeadm.yaml"]);
  });

  it("is delivered to the first node, and run there only with bootstrap: init-first", () => {
    const userData = (bootstrap: string, index: number) => {
      const plan = planOf(k8s("1.31.4", { bootstrap }));
      const node = plan.nodes[index]!;
      const file = renderNodes(plan).find((a) => a.path === `nodes/${node.name}/user-data`)!;
      return docs(file.contents as string)[0]!;
    };
    const off = userData("off", 0);
    expect(off.write_files.map((f: any) => f.path)).toContain("/etc/kubernetes/kubeadm/kubeadm.yaml");
    expect(off.write_files.find((f: any) => f.path.endsWith("kubeadm.yaml")).permissions).toBe("0600");
    expect(JSON.stringify(off.runcmd)).not.toMatch(/kubeadm/);
    const first = userData("init-first", 0);
    expect(first.runcmd.at(-1)).toEqual([
      "kubeadm",
      "init",
      "--config",
      "/etc/kubernetes/kubeadm/kubeadm.yaml",
      "--upload-certs",
    ]);
    const other = userData("init-first", 1);
    expect(JSON.stringify(other)).not.toMatch(/kubeadm/);
  });

  it("refuses join values kubeadm would reject", () => {
    const plan = planOf(k8s("1.31.4"));
    expect(() => renderJoinConfig(plan, plan.nodes[1]!, { ...SECRETS, token: "ABCDEF.0123456789abcdef" })).toThrow(
      /token/,
    );
    expect(() => renderJoinConfig(plan, plan.nodes[1]!, { ...SECRETS, caCertHash: "sha256:xyz" })).toThrow(
      /CA cert hash/,
    );
    expect(() => renderJoinConfig(plan, plan.nodes[1]!, { ...SECRETS, certificateKey: "0f" })).toThrow(
      /certificate key/,
    );
  });
});

// `k8s-ha kubeadm join-config`: the other nodes' JoinConfiguration, once `kubeadm init` on the
// first node has printed the three join values. They are secrets, so they never pass through the
// spec, the seed or the manifest: they come from flags or the environment, are checked, and land
// only in DIR/nodes/<node>/kubeadm.yaml (mode 0600), which this command alone writes. Nothing
// else in DIR is touched; `render` and `seed` list these files nowhere (see docs/kubeadm.md).
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { EXIT, ExitError, UsageError } from "../../errors.js";
import { writeFileAtomic } from "../../write/atomic.js";
import type { Env } from "../../spec/check.js";
import type { JoinSecrets } from "../../spec/kubernetes.js";
import { joinSecretProblems, renderJoinConfig } from "../../render/kubeadm.js";
import { NODE_FILES, nodeDir } from "../../render/paths.js";
import { compileSpec } from "../compile.js";
import { DEFAULT_SPEC } from "../defaults.js";
import { stderr } from "../../terminal.js";

export interface JoinConfigOptions {
  output: string;
  token?: string;
  caCertHash?: string;
  certificateKey?: string;
  node?: string;
}

/** Where each value comes from when its flag is absent. */
export const JOIN_ENV = {
  token: "K8S_HA_JOIN_TOKEN",
  caCertHash: "K8S_HA_CA_CERT_HASH",
  certificateKey: "K8S_HA_CERTIFICATE_KEY",
} as const;
const FLAGS = { token: "--token", caCertHash: "--ca-cert-hash", certificateKey: "--certificate-key" } as const;

const WHERE_TO_GET_THEM =
  "`kubeadm init … --upload-certs` printed them; later, on the first node: " +
  "sudo kubeadm token create --print-join-command (token and hash) and " +
  "sudo kubeadm init phase upload-certs --upload-certs (a new certificate key, valid 2 hours)";

export function joinSecrets(options: JoinConfigOptions, env: Env): JoinSecrets {
  const keys = ["token", "caCertHash", "certificateKey"] as const;
  const value = (key: (typeof keys)[number]) => options[key] ?? env[JOIN_ENV[key]] ?? "";
  const missing = keys.filter((key) => value(key) === "");
  if (missing.length > 0) {
    throw new UsageError(
      `missing ${missing.map((key) => `${FLAGS[key]} (or ${JOIN_ENV[key]})`).join(", ")}`,
      WHERE_TO_GET_THEM,
    );
  }
  const secrets = { token: value("token"), caCertHash: value("caCertHash"), certificateKey: value("certificateKey") };
  const problems = joinSecretProblems(secrets);
  if (problems.length > 0) throw new UsageError(problems.join("; "), WHERE_TO_GET_THEM);
  return secrets;
}

export async function runJoinConfig(
  specPath: string | undefined,
  options: JoinConfigOptions,
  env: Env = process.env,
): Promise<void> {
  const secrets = joinSecrets(options, env);
  const compiled = await compileSpec(specPath);
  const { plan } = compiled;
  const k8s = plan.kubernetes;
  if (!k8s) {
    throw new ExitError(
      EXIT.invalid,
      `${specPath ?? DEFAULT_SPEC}: spec.kubernetes is not set, so there is no kubeadm cluster to join`,
      'add kubernetes: {version: "1.31.4"} under spec, render, and run kubeadm init on the first node',
    );
  }
  const joining = plan.nodes.filter((node) => node.name !== k8s.initNode);
  if (options.node !== undefined && !joining.some((node) => node.name === options.node)) {
    const names = joining.map((node) => node.name).join(", ") || "none";
    throw new UsageError(
      `--node ${options.node} is not a joining node of cluster ${plan.name} (${k8s.initNode} runs kubeadm init)`,
      `joining nodes: ${names}`,
    );
  }
  const targets = joining.filter((node) => options.node === undefined || node.name === options.node);
  // render everything first: a failure leaves no half-written set behind
  const files = targets.map((node) => ({
    node: node.name,
    path: join(options.output, nodeDir(node.name), NODE_FILES.kubeadmConfig),
    contents: renderJoinConfig(plan, node, secrets),
  }));
  for (const file of files) {
    await mkdir(join(options.output, nodeDir(file.node)), { recursive: true });
    await writeFileAtomic(file.path, file.contents, 0o600);
  }
  const log = (line: string) => stderr.write(`${line}\n`);
  log(
    `wrote the JoinConfiguration of ${files.length} node(s) of cluster ${plan.name} (mode 0600, holds the join token and certificate key):`,
  );
  for (const file of files) log(`  ${file.path}`);
  log("on each node, copy its file and join, e.g.:");
  for (const file of files)
    log(
      `  scp ${file.path} ${file.node}: && ssh ${file.node} 'sudo kubeadm join --config kubeadm.yaml && rm kubeadm.yaml'`,
    );
  if (files.length === 0) log("  (none: the cluster has one node)");
}

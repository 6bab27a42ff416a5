// What a lab needs from the machine, checked before anything is created, so a missing piece is
// one clear error rather than a half-built lab.
import { ExternalError } from "../errors.js";
import { installHint, run, which } from "../tools/run.js";

/** The programs a lab runs; `node` itself runs the stand-in kube-apiservers. */
// iptables drops VRRP in the partition scenario
const LAB_TOOLS = ["ip", "keepalived", "haproxy", "curl", "openssl", "iptables"] as const;
export type LabTool = (typeof LAB_TOOLS)[number];
export type ToolPaths = Record<LabTool, string>;

/** Resolves every tool's path; throws ExternalError naming all that are missing, or when not root. */
export async function checkPrerequisites(): Promise<ToolPaths> {
  if (process.platform !== "linux") {
    throw new ExternalError("rehearse needs Linux: it runs the configs in network namespaces");
  }
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    throw new ExternalError(
      "rehearse needs root: it creates network namespaces and runs keepalived and haproxy in them",
      "run it with sudo (nothing outside the lab's own namespaces is touched)",
    );
  }
  const found = await Promise.all(LAB_TOOLS.map(async (tool) => [tool, await which(tool)] as const));
  const missing = found.filter(([, path]) => path === undefined).map(([tool]) => tool);
  if (missing.length > 0) {
    throw new ExternalError(
      `rehearse needs ${missing.join(", ")}, not found on PATH`,
      missing.map((tool) => `${tool}: ${installHint(tool)}`).join("; "),
    );
  }
  // `ip netns` needs a kernel with network namespaces; `ip netns list` fails early without them
  const probe = await run(found.find(([tool]) => tool === "ip")![1]!, ["netns", "list"]);
  if (probe.code !== 0) {
    throw new ExternalError(
      `'ip netns list' failed: ${probe.stderr.trim()}`,
      "the kernel needs network namespace support (CONFIG_NET_NS)",
    );
  }
  return Object.fromEntries(found) as ToolPaths;
}

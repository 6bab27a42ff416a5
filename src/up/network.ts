// The lab network of the qemu provider: a namespace of its own holding a bridge (with the host's
// address in the cluster subnet, from which the VIP is polled) and one tap per VM. Nothing is
// created in the host's own namespace; deleting the namespace deletes the bridge and the taps.
import { ExternalError } from "../errors.js";
import { describeExit, run } from "../tools/run.js";
import { BRIDGE } from "./layout.js";

async function ip(ipPath: string, args: readonly string[]): Promise<string> {
  const result = await run(ipPath, args, { timeoutMs: 10_000 });
  if (result.code !== 0)
    throw new ExternalError(`ip ${args.join(" ")}: ${describeExit("ip", result)}: ${result.stderr.trim()}`);
  return result.stdout;
}

export async function namespaceExists(ipPath: string, netns: string): Promise<boolean> {
  const out = await ip(ipPath, ["netns", "list"]);
  return out.split("\n").some((line) => line.split(" ")[0] === netns);
}

/** The namespace and its bridge, up, with `hostAddress/prefix` on the bridge. */
export async function createLabNetwork(
  ipPath: string,
  netns: string,
  hostAddress: string,
  prefix: number,
): Promise<void> {
  await ip(ipPath, ["netns", "add", netns]);
  await ip(ipPath, ["-n", netns, "link", "set", "lo", "up"]);
  await ip(ipPath, ["-n", netns, "link", "add", BRIDGE, "type", "bridge"]);
  await ip(ipPath, ["-n", netns, "addr", "add", `${hostAddress}/${prefix}`, "dev", BRIDGE]);
  await ip(ipPath, ["-n", netns, "link", "set", BRIDGE, "up"]);
}

export async function tapExists(ipPath: string, netns: string, tap: string): Promise<boolean> {
  const result = await run(ipPath, ["-n", netns, "link", "show", tap], { timeoutMs: 10_000 });
  return result.code === 0;
}

export async function createTap(ipPath: string, netns: string, tap: string): Promise<void> {
  await ip(ipPath, ["-n", netns, "tuntap", "add", tap, "mode", "tap"]);
  await ip(ipPath, ["-n", netns, "link", "set", tap, "master", BRIDGE]);
  await ip(ipPath, ["-n", netns, "link", "set", tap, "up"]);
}

export async function deleteLabNetwork(ipPath: string, netns: string): Promise<void> {
  if (await namespaceExists(ipPath, netns)) await ip(ipPath, ["netns", "delete", netns]);
}

/** Links left in a namespace (after `down`: none, as the namespace is gone). */
export async function namespaceLinks(ipPath: string, netns: string): Promise<string[]> {
  const out = await ip(ipPath, ["-n", netns, "-o", "link", "show"]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(":")[1]!.trim().split("@")[0]!);
}

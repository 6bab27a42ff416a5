// Finds Packer and VirtualBox before a build, and says what to install when one is missing:
// a build that fails twenty minutes in for a missing tool is the failure we avoid here.
import { homedir } from "node:os";
import { join } from "node:path";
import coerce from "semver/functions/coerce.js";
import gte from "semver/functions/gte.js";
import { ExternalError } from "../errors.js";
import { run, which } from "../tools/run.js";

export const PACKER_INSTALL_HINT =
  "install Packer >= 1.7 from https://developer.hashicorp.com/packer/install " +
  "(Debian/Ubuntu: apt-get install packer), or put it on PATH";
export const VIRTUALBOX_INSTALL_HINT =
  "install VirtualBox 6.1 or 7.x from https://www.virtualbox.org/wiki/Downloads; VBoxManage must be on PATH";

export interface PackerVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

export interface Toolchain {
  packer: string;
  packerVersion: PackerVersion;
  /** VBoxManage --version, when VirtualBox was required. */
  virtualBoxVersion?: string;
  /** -var settings of the template that follow from the tools found. */
  templateVars: Record<string, string>;
}

/**
 * VirtualBox 7's NAT keeps guests off the host's loopback, where Packer's HTTP server serves the
 * autoinstall seed; without `--nat-localhostreachable1 on` the installer never gets it and the
 * build sits out its SSH timeout (packer #12118). Packer 1.6.6's built-in builder never sets it
 * (plugin >= 1.1.0 does): the template sets it when told to, and turns it off before the export.
 * VirtualBox 6 rejects the flag, so it is set from the version, never by default.
 */
export function virtualBoxTemplateVars(virtualBoxVersion: string): Record<string, string> {
  const major = Number(/^(\d+)\./.exec(virtualBoxVersion)?.[1] ?? 0);
  return major >= 7 ? { nat_localhost_reachable: "true" } : {};
}

/** "Packer v1.6.6" (and later lines about updates) → 1.6.6: the first version in the text. */
export function parsePackerVersion(output: string): PackerVersion | undefined {
  const version = coerce(output);
  return version
    ? { major: version.major, minor: version.minor, patch: version.patch, text: version.version }
    : undefined;
}

/** Packer >= 1.7 reads plugins.pkr.hcl (`packer init`, folder builds); 1.6 builds the main file alone. */
export function supportsPlugins(version: PackerVersion): boolean {
  return gte(version.text, "1.7.0");
}

export async function packerVersion(packer: string, env: NodeJS.ProcessEnv): Promise<PackerVersion> {
  const result = await run(packer, ["version"], { env, timeoutMs: 30_000 });
  const version = result.code === 0 ? parsePackerVersion(result.stdout) : undefined;
  if (!version) {
    const said = (result.stdout + result.stderr).trim().split("\n").slice(0, 3).join(" / ");
    throw new ExternalError(
      `'${packer} version' did not report a Packer version (${said || `exit ${result.code}`})`,
      PACKER_INSTALL_HINT,
    );
  }
  if (version.major < 1 || (version.major === 1 && version.minor < 6)) {
    throw new ExternalError(`Packer ${version.text} is too old for this template`, PACKER_INSTALL_HINT);
  }
  return version;
}

export async function preflight(options: {
  packer: string;
  requireVirtualBox: boolean;
  env: NodeJS.ProcessEnv;
}): Promise<Toolchain> {
  const packer = await which(options.packer);
  if (!packer) {
    throw new ExternalError(`Packer not found: '${options.packer}' is not an executable on PATH`, PACKER_INSTALL_HINT);
  }
  const version = await packerVersion(packer, options.env);
  if (!options.requireVirtualBox) return { packer, packerVersion: version, templateVars: {} };

  const vboxmanage = await which("VBoxManage");
  if (!vboxmanage) {
    throw new ExternalError("VirtualBox not found: 'VBoxManage' is not on PATH", VIRTUALBOX_INSTALL_HINT);
  }
  const result = await run(vboxmanage, ["--version"], { env: options.env, timeoutMs: 30_000 });
  const virtualBoxVersion = result.stdout.trim().split("\n").pop()?.trim() ?? "";
  if (result.code !== 0 || !/^\d+\.\d+/.test(virtualBoxVersion)) {
    throw new ExternalError(
      `'VBoxManage --version' failed: ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`,
      "check the VirtualBox installation (its kernel modules must be loaded: vboxconfig on Linux)",
    );
  }
  return { packer, packerVersion: version, virtualBoxVersion, templateVars: virtualBoxTemplateVars(virtualBoxVersion) };
}

/** Packer's environment: no update check, and the ISO cache outside DIR (1.6 defaults to ./packer_cache). */
export function packerEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...base };
  env.CHECKPOINT_DISABLE ??= "1";
  if (!env.PACKER_CACHE_DIR) {
    env.PACKER_CACHE_DIR = join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "packer");
  }
  return env;
}

// One adapter per program that reads a generated file (STYLE.md 6). Each runs the real program
// on one node's file and turns its answer into a verdict. Any output counts against the file:
// warnings on our configs are bugs, and haproxy -dW / keepalived -t make them errors anyway.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { packerEnv } from "../packer/preflight.js";
import { PACKER_MAIN_FILE } from "../packer/render.js";
import { isDryRunnable } from "../render/firewall.js";
import { renderKeepalived } from "../render/keepalived.js";
import { NODE_FILES, VM_PATHS } from "../render/paths.js";
import { lineDiff, relocate } from "../render/relocate.js";
import { atLeast, HAPROXY_ZERO_WARNING_SINCE } from "../spec/releases.js";
import { describeExit, run, type RunResult } from "./run.js";

export interface ToolVerdict {
  tool: string;
  /** The command as a person would type it, for the report. */
  command: string;
  node: string;
  file: string;
  /** The program's release when it came from a version matrix (validate --matrix), else absent. */
  release?: string;
  ok: boolean;
  output: string;
  /** The program did not finish before the deadline (an external failure, not a finding). */
  timedOut?: boolean;
}

export interface FileCheck {
  tool: string;
  /** "node": run once per node on its files; "cluster": once, on the cluster-wide files (packer/). */
  scope: "node" | "cluster";
  /** The program that must be on PATH. */
  program: string;
  file: string;
  /** The program refuses to run without root (ufw, even with --dry-run): for others it counts as missing. */
  needsRoot?: boolean;
  /** Whether the plan renders the file at all (cloud-init files on Ubuntu, config.ign on fcos/flatcar); default yes. */
  applies?(plan: ClusterPlan): boolean;
  /**
   * The one command `check` runs through ctx.runShared, known before any check starts: cloud-init
   * runs all of a validate's commands in one interpreter (cloud-init-batch.ts).
   */
  batchArgs?(ctx: CheckContext): string[];
  check(ctx: CheckContext): Promise<ToolVerdict>;
}

const cloudInitTarget = (plan: ClusterPlan) => plan.target.provisioning === "cloud-init";
const ignitionTarget = (plan: ClusterPlan) => plan.target.provisioning === "ignition";

export interface CheckContext {
  plan: ClusterPlan;
  /** The node whose files are checked; absent for cluster-scope checks. */
  node?: NodePlan;
  /** A private (0700) folder holding the files checked, under their paths in the output. */
  dir: string;
  /** Absolute path of the program. */
  binary: string;
  /** Its release, when known (a version-matrix binary): some flags depend on it. */
  release?: string;
  /**
   * Runs a command whose answer depends on its arguments only (not on a node's files) once per
   * validate, however many nodes ask: the ufw rules every node shares (issue 13); and answers the
   * commands of `batchArgs` from one batch. Default: run.
   */
  runShared?: typeof run;
}

/** Each program's deadline; K8S_HA_TOOL_TIMEOUT (seconds) overrides it, e.g. for a slow CI runner. */
export function toolTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.K8S_HA_TOOL_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

function verdict(
  check: FileCheck,
  ctx: CheckContext,
  command: string,
  result: RunResult,
  output = result.stdout + result.stderr,
): ToolVerdict {
  const trimmed = output.trim();
  const ok = result.code === 0 && trimmed === "";
  return {
    tool: check.tool,
    command,
    node: ctx.node?.name ?? "cluster",
    file: check.file,
    ...(ctx.release === undefined ? {} : { release: ctx.release }),
    ok,
    output: ok
      ? ""
      : result.timedOut
        ? describeExit(check.program, result)
        : trimmed || describeExit(check.program, result),
    ...(result.timedOut ? { timedOut: true } : {}),
  };
}

/** The program as the report names it: with its release when it came from a version matrix. */
function named(check: FileCheck, ctx: CheckContext): string {
  return ctx.release === undefined ? check.program : `${check.program} ${ctx.release}`;
}

const haproxy: FileCheck = {
  tool: "haproxy",
  scope: "node",
  program: "haproxy",
  file: NODE_FILES.haproxyCfg,
  async check(ctx) {
    // -dW (warnings are errors) exists from 2.4; older releases print warnings, which count anyway
    const flags =
      ctx.release === undefined || atLeast(ctx.release, HAPROXY_ZERO_WARNING_SINCE) ? ["-c", "-dW"] : ["-c"];
    const result = await run(ctx.binary, [...flags, "-f", join(ctx.dir, this.file)], { timeoutMs: toolTimeoutMs() });
    // haproxy -c prints "Configuration file is valid" on success: that line is not a finding
    const output = (result.stdout + result.stderr).replace(/^Configuration file is valid\s*$/m, "");
    return verdict(this, ctx, `${named(this, ctx)} ${flags.join(" ")} -f ${this.file}`, result, output);
  },
};

/** An interface that exists here, for keepalived -t (it refuses a config naming a missing one). */
function localInterface(): string {
  const names = Object.keys(networkInterfaces()).sort();
  return names.find((n) => n !== "lo") ?? "lo";
}

const keepalived: FileCheck = {
  tool: "keepalived",
  scope: "node",
  program: "keepalived",
  file: NODE_FILES.keepalivedConf,
  async check(ctx) {
    // keepalived -t needs the interface to exist and the check script to be root-owned in a
    // folder others cannot write. It checks the shipped bytes, changed only in the lines that
    // name the interface and the script's path: the renderer run with the VM's values and with
    // local ones says which lines those are (the same diff as the rehearsal's).
    const lab = join(ctx.dir, "keepalived-test");
    await mkdir(lab, { recursive: true, mode: 0o700 });
    const script = join(lab, "check_apiserver.sh");
    await writeFile(script, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    await chmod(script, 0o755);
    const iface = localInterface();
    const local = { ...ctx.plan, network: { ...ctx.plan.network, interface: iface } };
    const changes = lineDiff(
      renderKeepalived(ctx.plan, ctx.node!, VM_PATHS.checkScript),
      renderKeepalived(local, ctx.node!, script),
    );
    const shipped = await readFile(join(ctx.dir, this.file), "utf8");
    const conf = join(lab, "keepalived.conf");
    await writeFile(conf, relocate(shipped, changes).text, { mode: 0o600 });
    const result = await run(ctx.binary, ["-t", "-l", "-n", "-f", conf], { timeoutMs: toolTimeoutMs() });
    return verdict(
      this,
      ctx,
      `${named(this, ctx)} -t -f ${this.file} (interface ${iface}, script in a private folder)`,
      result,
    );
  },
};

const shellcheck: FileCheck = {
  tool: "shellcheck",
  scope: "node",
  program: "shellcheck",
  file: NODE_FILES.checkScript,
  async check(ctx) {
    const result = await run(ctx.binary, ["-s", "sh", "-f", "gcc", join(ctx.dir, this.file)], {
      timeoutMs: toolTimeoutMs(),
    });
    return verdict(this, ctx, `shellcheck -s sh ${this.file}`, result);
  },
};

const cloudConfig: FileCheck = {
  tool: "cloud-init",
  scope: "node",
  program: "cloud-init",
  file: NODE_FILES.userData,
  applies: cloudInitTarget,
  batchArgs(ctx) {
    return ["schema", "-c", join(ctx.dir, this.file)];
  },
  async check(ctx) {
    const result = await (ctx.runShared ?? run)(ctx.binary, this.batchArgs!(ctx), { timeoutMs: toolTimeoutMs() });
    const output = (result.stdout + result.stderr).replace(/^Valid cloud-config: .*$/m, "");
    return verdict(this, ctx, `cloud-init schema -c ${this.file}`, result, output);
  },
};

const networkConfig: FileCheck = {
  tool: "cloud-init",
  scope: "node",
  program: "cloud-init",
  file: NODE_FILES.networkConfig,
  applies: cloudInitTarget,
  // cloud-init 22.4's `schema` knows no network-config; its own converter parses the v2 data
  // exactly as the NoCloud datasource will, and rejects what Ubuntu 20.04 would (e.g. `to: default`).
  batchArgs(ctx) {
    const outDir = join(ctx.dir, "net-convert");
    return [
      "devel",
      "net-convert",
      "-p",
      join(ctx.dir, this.file),
      "-k",
      "yaml",
      "-d",
      outDir,
      "-D",
      "ubuntu",
      "-O",
      "networkd",
    ];
  },
  async check(ctx) {
    const result = await (ctx.runShared ?? run)(ctx.binary, this.batchArgs!(ctx), { timeoutMs: toolTimeoutMs() });
    const output = (result.stdout + result.stderr)
      .replace(/^Read input format 'yaml' from .*$/m, "")
      .replace(/^Wrote output format 'networkd' to .*$/m, "");
    // keep the error line, not the Python traceback
    const lines = output.trim().split("\n");
    const errorLine = lines.reverse().find((l) => /Error|error/.test(l));
    return verdict(
      this,
      ctx,
      `cloud-init devel net-convert -p ${this.file}`,
      result,
      result.code === 0 ? output : (errorLine ?? output),
    );
  },
};

const packerTemplate: FileCheck = {
  tool: "packer",
  scope: "cluster",
  program: "packer",
  file: PACKER_MAIN_FILE,
  applies: cloudInitTarget, // the template bakes the Ubuntu golden image; Ignition targets get none
  async check(ctx) {
    // validate needs neither VirtualBox nor the network: the ISO checksum is pinned as sha256:<hex>
    const result = await run(ctx.binary, ["validate", join(ctx.dir, this.file)], {
      timeoutMs: toolTimeoutMs(),
      env: packerEnv(process.env),
    });
    return verdict(this, ctx, `packer validate ${this.file}`, result);
  },
};

const ignitionConfig: FileCheck = {
  tool: "ignition-validate",
  scope: "node",
  program: "ignition-validate",
  file: NODE_FILES.ignition,
  applies: ignitionTarget,
  async check(ctx) {
    // ignition-validate exits 0 on warnings (an enabled unit without [Install], an unset mode):
    // verdict() counts any output as a failure. Debian's 2.14 reads config spec 3.0 to 3.3.
    const result = await run(ctx.binary, [join(ctx.dir, this.file)], { timeoutMs: toolTimeoutMs() });
    return verdict(this, ctx, `ignition-validate ${this.file}`, result);
  },
};

/** The ufw commands of the shipped user-data's runcmd (the bytes the node runs, not a re-render). */
function shippedUfwCommands(userData: string): string[][] {
  const runcmd = (parse(userData) as { runcmd?: unknown[] } | null)?.runcmd ?? [];
  return runcmd.filter((c): c is string[] => Array.isArray(c) && c[0] === "ufw");
}

const ufwRules: FileCheck = {
  tool: "ufw",
  scope: "node",
  program: "ufw",
  file: NODE_FILES.userData,
  needsRoot: true,
  applies: (plan) => cloudInitTarget(plan) && plan.firewall.enabled,
  async check(ctx) {
    // `ufw --dry-run allow …` parses the rule as first boot will ("ERROR: Bad port") and prints
    // the iptables rules without loading them. reset and enable are left out: reset backs up and
    // replaces /etc/ufw even with --dry-run.
    const commands = shippedUfwCommands(await readFile(join(ctx.dir, this.file), "utf8")).filter(isDryRunnable);
    for (const command of commands) {
      const result = await (ctx.runShared ?? run)(ctx.binary, ["--dry-run", ...command.slice(1)], {
        timeoutMs: toolTimeoutMs(),
      });
      const error = /^ERROR: .*$/m.exec(result.stdout + result.stderr)?.[0];
      if (result.code !== 0 || error) {
        return verdict(
          this,
          ctx,
          `ufw --dry-run ${command.slice(1).join(" ")}`,
          { ...result, code: result.code || 1 },
          error ?? result.stderr,
        );
      }
    }
    return {
      tool: this.tool,
      command: `ufw --dry-run (${commands.length} rules of runcmd)`,
      node: ctx.node!.name,
      file: this.file,
      ok: true,
      output: "",
    };
  },
};

/** The checks of the three config files, the cloud-init files (Ubuntu) and the Packer template. */
/** Every check `validate --tools` knows; each applies only to the targets whose files it reads. */
export const FILE_CHECKS: readonly FileCheck[] = [
  haproxy,
  keepalived,
  shellcheck,
  cloudConfig,
  networkConfig,
  ufwRules,
  packerTemplate,
  ignitionConfig,
];

export function applicableChecks(plan: ClusterPlan, checks: readonly FileCheck[]): FileCheck[] {
  return checks.filter((check) => check.applies?.(plan) ?? true);
}

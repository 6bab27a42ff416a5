// Every command is declared here; each command's module is imported only when it runs, so that
// `k8s-ha render` never loads the AWS SDK, Packer runner or rehearsal lab (STYLE.md 5).
import { Command, CommanderError, Option } from "commander";
import { VERSION } from "../version.js";
import { EXIT, ExitError, UsageError } from "../errors.js";
import { DEFAULT_SPEC } from "./defaults.js";
import { stderr, stdout } from "../terminal.js";

const SPEC_ARG = `cluster spec file, - for standard input (default: ./${DEFAULT_SPEC})`;

export function buildProgram(): Command {
  const program = new Command("k8s-ha")
    .description(
      "Compile one cluster spec into a highly available Kubernetes control-plane front door:\nkeepalived VIP + haproxy, as cloud-init seeds, golden images and a failover rehearsal.",
    )
    .version(VERSION, "--version")
    .showHelpAfterError("    hint: run `k8s-ha --help` for usage")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text.startsWith("error:") ? `k8s-ha: ${text}` : text),
    });

  program
    .command("init")
    .description("write a commented starter spec (the recipe's two masters)")
    .argument("[path]", `where to write it (default: ./${DEFAULT_SPEC})`)
    .option("--force", "overwrite an existing file")
    .action(async (path: string | undefined, options: { force?: boolean }) => {
      const { runInit } = await import("./commands/init.js");
      await runInit(path, options);
    });

  program
    .command("validate")
    .description("check the spec and everything rendered from it, optionally with the real tools")
    .argument("[spec]", SPEC_ARG)
    .addOption(
      new Option("--tools <mode>", "also run haproxy, keepalived, shellcheck, cloud-init found on PATH")
        .choices(["auto", "required", "off"])
        .default("off"),
    )
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "github"]).default("text"))
    .option(
      "--matrix <dir>",
      "also check haproxy.cfg and keepalived.conf with every release in DIR (DIR/<tool>-<version>/bin/<tool>)",
    )
    .option("--json", "same as --format json")
    .action(
      async (
        spec: string | undefined,
        options: {
          tools: "auto" | "required" | "off";
          format: "text" | "json" | "github";
          json?: boolean;
          matrix?: string;
        },
      ) => {
        if (options.json && options.format !== "text" && options.format !== "json")
          throw new UsageError(`--json contradicts --format ${options.format}`);
        const { runValidate } = await import("./commands/validate.js");
        await runValidate(spec, {
          tools: options.tools,
          format: options.json ? "json" : options.format,
          ...(options.matrix !== undefined ? { matrix: options.matrix } : {}),
        });
      },
    );

  program
    .command("render")
    .description("write every artifact: per-node cloud-init data and configs, Packer template, manifest")
    .argument("[spec]", SPEC_ARG)
    .option("-o, --output <dir>", "output directory", "out")
    .option("--node <name>", "rewrite only this node's files (and the manifest); other files are left as they are")
    .option("--json", "print the files of this spec in the output (the manifest) as JSON on stdout")
    .addHelpText(
      "after",
      "\nrender never deletes: seed ISOs, a bundle and other nodes' files stay; manifest.json lists only the files that match this spec.",
    )
    .action(async (spec: string | undefined, options: { output: string; node?: string; json?: boolean }) => {
      const { runRender } = await import("./commands/render.js");
      await runRender(spec, options);
    });

  program
    .command("seed")
    .description("render, then write a NoCloud seed ISO per node (nodes/<node>/seed.iso, volume cidata)")
    .argument("[spec]", SPEC_ARG)
    .option("-o, --output <dir>", "output directory", "out")
    .option(
      "--node <name>",
      "rewrite only this node's files and seed (and the manifest); other nodes' files and seeds stay",
    )
    .option("--bundle", "also write <cluster>-seeds.tar.gz: the manifest and every seed written")
    .option("--json", "print the seeds, their checksums and attach commands as JSON on stdout")
    .addHelpText(
      "after",
      "\nTimestamps come from SOURCE_DATE_EPOCH when set, else from each node's instance-id: same spec, same bytes.",
    )
    .action(
      async (
        spec: string | undefined,
        options: { output: string; node?: string; bundle?: boolean; json?: boolean },
      ) => {
        const { runSeed } = await import("./commands/seed.js");
        await runSeed(spec, options);
      },
    );

  program
    .command("build-image")
    .description("bake the golden image (Ubuntu 20.04 VirtualBox OVA) with Packer and record it in DIR/images/")
    .argument("[spec]", SPEC_ARG)
    .option("-o, --output <dir>", "output directory", "out")
    .option("--dry-run", "print the Packer commands and exit")
    .option(
      "--force",
      "build even when an image with the same template fingerprint exists (with --publish: and replace a published version)",
    )
    .option(
      "--publish",
      "then upload it to spec.publish.s3 and list it in the catalogue, as `k8s-ha publish` does (the store is checked before the bake)",
    )
    .option("--json", "print the image record as JSON on stdout (with --publish: what was published)")
    .action(
      async (
        spec: string | undefined,
        options: { output: string; dryRun?: boolean; force?: boolean; publish?: boolean; json?: boolean },
      ) => {
        const { runBuildImage } = await import("./commands/build-image.js");
        await runBuildImage(spec, options);
      },
    );

  program
    .command("rehearse")
    .description(
      "run the rendered keepalived and haproxy configs in network namespaces and prove that the VIP fails over (root)",
    )
    .argument("[spec]", SPEC_ARG)
    .option("--json", "print the results as JSON on stdout")
    .option("--keep", "leave the lab running afterwards, and print how to remove it")
    .option("--accept-invalid", "rehearse a spec that the checks reject (findings become warnings)")
    .option(
      "--runs <n>",
      "run every scenario N times, each in a fresh lab, and report p50, p95 and max per scenario",
      "1",
    )
    .action(
      async (
        spec: string | undefined,
        options: { json?: boolean; keep?: boolean; acceptInvalid?: boolean; runs: string },
      ) => {
        const { runRehearse } = await import("./commands/rehearse.js");
        await runRehearse(spec, options);
      },
    );

  program
    .command("up")
    .description(
      "boot the lab in real VMs: one per node from the golden image and its seed; wait for cloud-init and the VIP (root)",
    )
    .argument("[spec]", SPEC_ARG)
    .option("-o, --output <dir>", "output directory (the lab lives in DIR/up/)", "out")
    .addOption(new Option("--provider <provider>", "where the VMs run").choices(["qemu", "virtualbox"]).default("qemu"))
    .option(
      "--image <path>",
      "the golden image (qcow2 for qemu, OVA for VirtualBox); default: the record in DIR/images/",
    )
    .option(
      "--stand-in-apiserver",
      "LAB SEEDS: add a stand-in kube-apiserver and the rehearsal agent (never for production)",
    )
    .option(
      "--rehearse",
      "then stop keepalived, stop haproxy and power off the VIP holder in turn, timing each failover and heal",
    )
    .option(
      "--faults <list>",
      "with --rehearse: only these, comma-separated (keepalived-stopped, haproxy-stopped, holder-powered-off)",
    )
    .addOption(
      new Option("--accel <accel>", "qemu accelerator; auto probes KVM and falls back to TCG")
        .choices(["auto", "kvm", "tcg"])
        .default("auto"),
    )
    .option("--memory <MiB>", "memory per VM (default: spec.image.memoryMiB)")
    .option("--cpus <n>", "vCPUs per VM (default: spec.image.cpus)")
    .option("--timeout <seconds>", "how long to wait for each step (boot, failover)", "900")
    .option("--json", "print the nodes (and fault timings) as JSON on stdout")
    .action(async (spec: string | undefined, options: import("./commands/up.js").UpCommandOptions) => {
      const { runUp } = await import("./commands/up.js");
      await runUp(spec, options);
    });

  program
    .command("down")
    .description("power off and remove exactly what `up` created (DIR/up/state.json says what)")
    .argument("[spec]", SPEC_ARG)
    .option("-o, --output <dir>", "output directory", "out")
    .option("--keep-disks", "keep each VM's disk overlay (its changes) under DIR/up/")
    .action(async (spec: string | undefined, options: { output: string; keepDisks?: boolean }) => {
      const { runDown } = await import("./commands/up.js");
      await runDown(spec, options);
    });

  program
    .command("status")
    .description("which lab VMs run and which node answers for the VIP")
    .argument("[spec]", SPEC_ARG)
    .option("-o, --output <dir>", "output directory", "out")
    .option("--json", "print it as JSON on stdout")
    .option(
      "--report",
      "also ask each lab node for its report (DIR/up/<node>/report.txt; up --stand-in-apiserver labs)",
    )
    .action(async (spec: string | undefined, options: { output: string; json?: boolean; report?: boolean }) => {
      const { runStatus } = await import("./commands/up.js");
      await runStatus(spec, options);
    });

  program
    .command("publish")
    .description(
      "upload the built image, its record and the seeds bundle to spec.publish.s3, then list it in the catalogue",
    )
    .argument("[spec]", SPEC_ARG)
    .option("-o, --output <dir>", "output directory of build-image (and seed --bundle)", "out")
    .option("--force", "replace a version already published")
    .option("--json", "print what was published as JSON on stdout")
    .addHelpText(
      "after",
      "\nCredentials come from the standard AWS chain (AWS_PROFILE, AWS_ACCESS_KEY_ID…), never from the spec.\nTuning: K8S_HA_S3_PART_SIZE_MIB (default 8), K8S_HA_S3_CONCURRENCY (default 4).",
    )
    .action(async (spec: string | undefined, options: { output: string; force?: boolean; json?: boolean }) => {
      const { runPublish } = await import("./commands/publish.js");
      await runPublish(spec, options);
    });

  const images = program
    .command("images")
    .description("browse and fetch the golden images published to spec.publish.s3");
  images
    .command("list")
    .description("list the published versions of the spec's image whose files are all in the bucket")
    .argument("[spec]", SPEC_ARG)
    .option("--name <image>", "another image in the same bucket and prefix (default: spec.image.name)")
    .option("--json", "print the catalogue as JSON on stdout")
    .showHelpAfterError("    hint: run `k8s-ha images list --help` for usage")
    .action(async (spec: string | undefined, options: { json?: boolean; name?: string }) => {
      const { runImagesList } = await import("./commands/images.js");
      await runImagesList(spec, options);
    });
  images
    .command("pull")
    .description("download NAME@VERSION (or NAME@latest), verifying every file's sha256, into DIR/images/")
    .argument("[spec]", SPEC_ARG)
    .argument("[ref]", "NAME@VERSION or NAME@latest")
    .usage("[options] [spec] <ref>")
    .option("-o, --output <dir>", "output directory", "out")
    .option("--json", "print the files pulled as JSON on stdout")
    .showHelpAfterError("    hint: run `k8s-ha images pull --help` for usage")
    .action(
      async (first: string | undefined, second: string | undefined, options: { output: string; json?: boolean }) => {
        // the spec is optional and comes first: one argument is the image reference
        const [spec, ref] = second === undefined ? [undefined, first] : [first, second];
        if (ref === undefined)
          throw new UsageError(
            "missing the image to pull, NAME@VERSION",
            "e.g. k8s-ha images pull k8s-ha.yaml k8s-ha-ubuntu-20.04@latest -o out",
          );
        const { runImagesPull } = await import("./commands/images.js");
        await runImagesPull(spec, ref, options);
      },
    );

  images
    .command("gc")
    .description(
      "remove the objects of the spec's image that no published version names (race losers, files --force replaced)",
    )
    .argument("[spec]", SPEC_ARG)
    .option("--name <image>", "another image in the same bucket and prefix (default: spec.image.name)")
    .option("--min-age <hours>", "keep unlisted objects younger than this: a publish may be uploading them", "24")
    .option("--dry-run", "list what would be removed, remove nothing")
    .option("--json", "print what was removed as JSON on stdout")
    .showHelpAfterError("    hint: run `k8s-ha images gc --help` for usage")
    .action(
      async (
        spec: string | undefined,
        options: { name?: string; minAge: string; dryRun?: boolean; json?: boolean },
      ) => {
        const { runImagesGc } = await import("./commands/images.js");
        await runImagesGc(spec, options);
      },
    );

  const kubeadm = program
    .command("kubeadm")
    .description("kubeadm configs for the control plane behind the VIP (spec.kubernetes)");
  kubeadm
    .command("join-config")
    .description(
      "write each joining node's JoinConfiguration (DIR/nodes/<node>/kubeadm.yaml, mode 0600) from the values `kubeadm init` printed",
    )
    .argument("[spec]", SPEC_ARG)
    .option("-o, --output <dir>", "output directory", "out")
    .option("--token <token>", "bootstrap token, abcdef.0123456789abcdef (or K8S_HA_JOIN_TOKEN)")
    .option("--ca-cert-hash <hash>", "sha256:<64 hex> of the cluster CA (or K8S_HA_CA_CERT_HASH)")
    .option("--certificate-key <key>", "64 hex, from --upload-certs (or K8S_HA_CERTIFICATE_KEY)")
    .option("--node <name>", "write only this node's file")
    .addHelpText(
      "after",
      "\nPrefer the environment variables: flags end up in your shell history. Nothing else in DIR is written.",
    )
    .showHelpAfterError("    hint: run `k8s-ha kubeadm join-config --help` for usage")
    .action(
      async (
        spec: string | undefined,
        options: { output: string; token?: string; caCertHash?: string; certificateKey?: string; node?: string },
      ) => {
        const { runJoinConfig } = await import("./commands/kubeadm.js");
        await runJoinConfig(spec, options);
      },
    );

  program
    .command("schema")
    .description("print the JSON Schema of the spec (for editors)")
    .action(async () => {
      const { runSchema } = await import("./commands/schema.js");
      runSchema();
    });

  for (const command of program.commands) {
    command.exitOverride().showHelpAfterError(`    hint: run \`k8s-ha ${command.name()} --help\` for usage`);
  }
  return program;
}

/** Maps commander's own exits (help, version, usage errors) onto our exit codes. */
export function commanderExit(error: unknown): ExitError | undefined {
  if (!(error instanceof CommanderError)) return undefined;
  if (
    error.code === "commander.helpDisplayed" ||
    error.code === "commander.version" ||
    error.code === "commander.help"
  ) {
    return new ExitError(EXIT.ok);
  }
  return new UsageError("");
}

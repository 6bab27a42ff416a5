// Packer's command lines (the same for a build and for --dry-run), version parsing, quoting.
import { describe, expect, it } from "vitest";
import { parsePackerVersion, supportsPlugins } from "../../src/packer/preflight.js";
import { packerCommands, shellQuote } from "../../src/packer/runner.js";

const input = {
  templateDir: "/out/packer",
  mainFile: "/out/packer/k8s-ha.pkr.hcl",
  outputDirectory: "/out/images/.x-1.0.0.partial-7/output",
};

describe("packerCommands", () => {
  it("Packer >= 1.7: init, then validate and build the folder (plugins.pkr.hcl included)", () => {
    expect(packerCommands({ ...input, plugins: true })).toEqual({
      init: ["init", "/out/packer"],
      validate: ["validate", "-var", "output_directory=/out/images/.x-1.0.0.partial-7/output", "/out/packer"],
      build: [
        "build",
        "-machine-readable",
        "-on-error=cleanup",
        "-var",
        "output_directory=/out/images/.x-1.0.0.partial-7/output",
        "/out/packer",
      ],
    });
  });

  it("Packer 1.6: no init, and the main file alone (1.6.6 rejects required_plugins)", () => {
    const commands = packerCommands({ ...input, plugins: false });
    expect(commands.init).toBeUndefined();
    expect(commands.validate.at(-1)).toBe("/out/packer/k8s-ha.pkr.hcl");
    expect(commands.build.at(-1)).toBe("/out/packer/k8s-ha.pkr.hcl");
  });
});

describe("parsePackerVersion", () => {
  it.each([
    ["Packer v1.6.6\n", "1.6.6", false],
    ["Packer v1.11.2\n\nYour version of Packer is out of date! The latest version\nis 1.12.0.", "1.11.2", true],
    ["1.7.0", "1.7.0", true],
    ["Packer v2.0.0", "2.0.0", true],
  ])("%j → %s", (output, text, plugins) => {
    const version = parsePackerVersion(output);
    expect(version?.text).toBe(text);
    expect(version && supportsPlugins(version)).toBe(plugins);
  });

  it("gives up on output without a version", () => {
    expect(parsePackerVersion("command not found")).toBeUndefined();
  });
});

describe("shellQuote", () => {
  it("quotes only what a shell would split or expand", () => {
    expect(shellQuote(["packer", "build", "-var", "output_directory=/a b/c", "it's", "$HOME", "/plain/path.hcl"])).toBe(
      "packer build -var 'output_directory=/a b/c' 'it'\\''s' '$HOME' /plain/path.hcl",
    );
  });
});

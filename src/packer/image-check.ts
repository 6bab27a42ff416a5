// Reads the result of packer/scripts/95-check-image.sh from Packer's output, for the image
// record. The script prints, prefixed by Packer with the build's name ("    qemu.golden: "):
//   image-check: package keepalived 1:2.2.7-1+b2
//   image-check: ok keepalived.service disabled and stopped
//   image-check: FAIL machine-id: 0123…
//   image-check: passed 17 checks
// A failed check exits non-zero and fails the build, so a record only ever holds a pass; the
// collector still keeps failures, for the error message.
import type { UiLine } from "./machine-readable.js";
import type { ImageRecord } from "./record.js";

const LINE = /image-check: (package|ok|FAIL|passed|failed) (.*)$/;

export class ImageCheckCollector {
  private readonly checks: string[] = [];
  private readonly failures: string[] = [];
  private readonly packages: Record<string, string> = {};
  private finished: "passed" | "failed" | undefined;

  add(line: UiLine): void {
    for (const text of line.text.split("\n")) {
      const match = LINE.exec(text.trimEnd());
      if (!match) continue;
      const [, kind, rest] = match as unknown as [string, string, string];
      if (kind === "package") {
        const [name, version] = rest.split(" ");
        if (name && version) this.packages[name] = version;
      } else if (kind === "ok") this.checks.push(rest);
      else if (kind === "FAIL") this.failures.push(rest);
      else this.finished = kind as "passed" | "failed";
    }
  }

  /** The record's imageCheck, or undefined when the script never ran to its end. */
  result(): ImageRecord["imageCheck"] {
    if (!this.finished) return undefined;
    return {
      passed: this.finished === "passed" && this.failures.length === 0,
      checks: [...this.checks],
      packages: { ...this.packages },
    };
  }
}

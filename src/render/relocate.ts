// A rendered file moved somewhere else than a VM (a rehearsal lab, validate's private folder):
// the same renderer run twice, once with the VM's values and once with the local ones, tells
// which lines a move must change — the paths (and the interface) and nothing else. Those
// line changes are then applied to the file that ships, so the tools check the shipped bytes.

/** One line that differs between the VM's rendering and the local one (1-based). */
export interface LineChange {
  line: number;
  vm: string;
  local: string;
}

/** Lines that differ between two renderings of the same file (same line count by construction). */
export function lineDiff(vm: string, local: string): LineChange[] {
  const vmLines = vm.split("\n");
  const localLines = local.split("\n");
  if (vmLines.length !== localLines.length) {
    throw new Error("internal error: two renderings of one file differ by more than their paths");
  }
  return vmLines.flatMap((line, i) =>
    line === localLines[i] ? [] : [{ line: i + 1, vm: line, local: localLines[i]! }],
  );
}

/**
 * The shipped text with each changed line replaced by its local counterpart, wherever the shipped
 * file has that exact line. Every other byte is the shipped one, so a broken shipped file stays
 * broken; a line the move must change but that the shipped file lacks is reported.
 */
export function relocate(shipped: string, changes: readonly LineChange[]): { text: string; missing: LineChange[] } {
  const lines = shipped.split("\n");
  const missing: LineChange[] = [];
  for (const change of changes) {
    let found = false;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === change.vm) {
        lines[i] = change.local;
        found = true;
      }
    }
    if (!found) missing.push(change);
  }
  return { text: lines.join("\n"), missing };
}

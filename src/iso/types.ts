// The public types of the ISO writer and the in-memory tree that the encoders walk.

/** Where a file's bytes come from: memory, or a file on disk read in chunks while writing. */
export type IsoSource = Uint8Array | { path: string; size: number };

export interface IsoFile {
  /** POSIX path inside the image, e.g. "user-data" or "scripts/setup.sh". */
  name: string;
  source: IsoSource;
  /** Permission bits recorded in Rock Ridge PX (0..0o7777). Default 0o644. */
  mode?: number;
}

export interface IsoOptions {
  /** Volume identifier, written to the primary and the Joliet descriptor, e.g. "cidata". */
  volumeId: string;
  /** Every timestamp in the image. Never the wall clock: same inputs, same bytes, same UUID. */
  date: Date;
}

/** Invalid input. `problems` lists every problem found, not only the first. */
export class IsoError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? String(problems[0]) : `invalid ISO input:\n  ${problems.join("\n  ")}`);
    this.name = "IsoError";
  }
}

export interface FileNode {
  kind: "file";
  /** Real name of this component, as Rock Ridge NM and Joliet record it. */
  name: string;
  /** Full POSIX path without a leading slash. */
  path: string;
  size: number;
  mode: number;
  source: IsoSource;
  /** ECMA-119 Level 1 identifier, e.g. "USER_DAT.;1"; set by assignIsoNames. */
  isoId: string;
  /** Joliet identifier before UCS-2 encoding: the real name, e.g. "user-data". */
  jolietId: string;
}

export interface DirNode {
  kind: "dir";
  name: string;
  path: string;
  children: TreeNode[];
  isoId: string;
  jolietId: string;
}

export type TreeNode = FileNode | DirNode;

/** Rock Ridge mode of every directory: directories exist only to hold files, nobody writes. */
export const DIR_MODE = 0o755;
export const DEFAULT_FILE_MODE = 0o644;

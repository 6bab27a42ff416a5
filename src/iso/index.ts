/**
 * k8s-ha's ISO 9660 writer: NoCloud seed ISOs (volume "cidata") without genisoimage,
 * cloud-localds or xorriso, so `seed` works on Linux, macOS and Windows alike.
 *
 * One image carries three views of the same files:
 *  - plain ECMA-119 Level 1 names ("USER_DAT.;1"), for readers that know nothing else;
 *  - Rock Ridge (RRIP 1.09 "RRIP_1991A" over SUSP) in the primary hierarchy: real names, mode,
 *    times — what Linux (and so cloud-init) reads;
 *  - Joliet (UCS-2): real names for Windows and macOS.
 * Output is a pure function of (files, options): sorted by name, every timestamp from
 * options.date, no wall clock, no random bytes. Files are single-extent: at most 4 GiB - 1
 * each. See README.md beside this file for the layout and the spec sections per file.
 */
export { writeIso } from "./writer.js";
export { isoToBuffer } from "./buffer.js";
export { volumeDateFields } from "./bytes.js";
export { IsoError, type IsoFile, type IsoOptions, type IsoSource } from "./types.js";
export { MAX_FILE_SIZE, MAX_NAME_CHARS, MAX_PATH_BYTES, MAX_DIR_DEPTH } from "./validate.js";

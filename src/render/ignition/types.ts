// The part of the Ignition config spec 3.3.0 that k8s-ha writes. 3.3.0 is the newest version
// that both Fedora CoreOS and Flatcar read and that Debian's ignition-validate 2.14 accepts
// (3.4.0 is "unsupported config version" there). Field order here is the order in the output.

export const IGNITION_VERSION = "3.3.0";

export interface IgnitionUser {
  name: string;
  sshAuthorizedKeys?: string[];
  groups?: string[];
}

export interface IgnitionFile {
  path: string;
  /** Decimal, as JSON has no octal: 0o644 is 420. */
  mode: number;
  user: { name: string };
  group: { name: string };
  /** Replace what the image ships (e.g. /etc/hostname); Ignition refuses otherwise. */
  overwrite: boolean;
  contents: { source: string };
}

export interface IgnitionUnit {
  name: string;
  enabled: boolean;
  contents: string;
}

export interface IgnitionConfig {
  ignition: { version: typeof IGNITION_VERSION };
  passwd?: { users: IgnitionUser[] };
  storage: { files: IgnitionFile[] };
  systemd?: { units: IgnitionUnit[] };
}

// The container images that run keepalived and haproxy on container targets (Fedora CoreOS,
// Flatcar, static pods), pinned by version here and nowhere else. Names are fully qualified:
// podman on Fedora CoreOS refuses ambiguous short names when no terminal can ask which registry.
//
// keepalived: osixia/keepalived, the image of the kubeadm HA guide. 2.0.20 is the same 2.0 series
// as Ubuntu 20.04's keepalived 2.0.19, which our keepalived.conf already targets, and its
// Dockerfile installs curl (to fetch the keepalived source) without removing it afterwards, so
// check_apiserver.sh runs unchanged inside it: /bin/sh, curl, and busybox's ip and grep. We start
// /usr/local/sbin/keepalived directly, not the image's entrypoint: that one rewrites its own
// template config and deletes its example VIPs from the host's interfaces (host networking).
//
// haproxy: the Docker official image, the 2.6 LTS series, at 2.6.12, the haproxy that
// `validate --tools` runs on Debian 12: the config is checked by the release that serves it.
// Since 2.4 the image runs as the unprivileged user haproxy (uid 99), hence ports >= 1024.
// To move either image, change it here, render again, and validate with the matching tools.

export interface PinnedImage {
  /** Fully qualified reference, registry/repository:tag. */
  ref: string;
  /** The program inside the image that we start directly. */
  binary: string;
}

export const IMAGES = {
  keepalived: { ref: "docker.io/osixia/keepalived:2.0.20", binary: "/usr/local/sbin/keepalived" },
  haproxy: { ref: "docker.io/library/haproxy:2.6.12-alpine", binary: "/usr/local/sbin/haproxy" },
} as const satisfies Record<string, PinnedImage>;

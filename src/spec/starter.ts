// The spec `k8s-ha init` writes: the recipe's two masters, with every field explained.
// examples/two-masters.yaml is this text (a test keeps them equal).
export const STARTER_SPEC = `# k8s-ha cluster spec — the highly available front door of a kubeadm control plane:
# keepalived holds a virtual IP (VRRP), haproxy on every node balances the kube-apiservers.
# Render it with \`k8s-ha render\`, check it with \`k8s-ha validate --tools auto\`.
apiVersion: k8s-ha/v1alpha1
kind: Cluster
metadata:
  name: lab                      # DNS label; names images and instance-ids
spec:
  # The common VirtualBox lab: adapter 1 NAT (enp0s3: DHCP, the way out to package mirrors),
  # adapter 2 host-only (enp0s8, 192.168.56.0/24: the cluster network, reachable from the host).
  vip: 192.168.56.100            # the virtual IP clients use: --control-plane-endpoint 192.168.56.100:1644
  network:
    interface: enp0s8            # the cluster NIC: static address, VIP, VRRP, haproxy (the host-only adapter)
    prefixLength: 24             # the nodes and the VIP share this subnet
    dhcpInterfaces: [enp0s3]     # other NICs, by DHCP (the NAT adapter): default route and DNS come from here
    # gateway: 192.168.56.1      # optional: a default route on the cluster NIC instead (then it is the only one)
    # nameservers: [192.168.56.1]  # optional
  apiserver:
    port: 6443                   # where each kube-apiserver listens
  loadBalancer:
    port: 1644                   # haproxy's frontend on every node; must differ from apiserver.port
    balance: roundrobin          # roundrobin | leastconn | source
  nodes:                         # 1..16 control-plane nodes; the first gets the highest priority
    - name: master01
      address: 192.168.56.10
    - name: master02
      address: 192.168.56.11
  vrrp:
    virtualRouterId: 51          # 1..255, unique among VRRP routers on this subnet
    authPass: "42"               # at most 8 characters, sent in plain text; or authPassEnv: NAME
    advertInterval: 1            # seconds between adverts; a backup takes over after ~3 missed
    unicast: false               # true for networks that drop VRRP multicast (many clouds)
    preempt: true                # false: the VIP stays where it is when a better node returns
  healthCheck:                   # keepalived runs check_apiserver.sh every interval seconds
    interval: 2
    fall: 3                      # 3 failures (about 6 s) move the VIP
    rise: 2
    weight: auto                 # derived so that an unhealthy node drops below every healthy one
  firewall:
    enabled: true                # ufw, reset on every (re)seed: SSH, kubeadm's control-plane ports (6443 from all;
                                 # etcd, kubelet, controller-manager, scheduler from the peers), VRRP, the LB port;
                                 # routed (pod) traffic allowed
    allowSsh: true
    allow: []                    # extra rules, e.g. ["30000:32767/tcp", {port: "8472/udp", from: 192.168.56.0/24}]
                                 # (your CNI's ports: see docs/nodes.md)
  target:                        # where the nodes run, and who runs keepalived and haproxy there
    os: ubuntu-20.04             # ubuntu-20.04: cloud-init files; fcos | flatcar: Ignition (config.ign)
    services: systemd            # systemd: OS services (on fcos/flatcar, units running containers);
                                 # static-pods: manifests in /etc/kubernetes/manifests for the kubelet
  installPackages: true          # Ubuntu only. true: cloud-init installs keepalived, haproxy, curl, ufw
                                 # (stock Ubuntu, needs apt); false: the golden image has them (offline)
  users: []                      # e.g. [{name: ubuntu, sshAuthorizedKeys: ["ssh-ed25519 AAAA… you@laptop"]}];
                                 # every user needs a key: passwords are locked
  image:                         # the golden image that \`k8s-ha build-image\` bakes
    name: k8s-ha-ubuntu-20.04
    version: 0.1.0
    cpus: 2
    memoryMiB: 2048
    diskMiB: 20480
    extraPackages: []
  # publish:                     # optional: where golden images and seeds are shared
  #   s3:
  #     bucket: golden-images
  #     prefix: k8s-ha/
  #     region: us-east-1
  #     endpoint: http://127.0.0.1:9000   # any S3-compatible store
  #     forcePathStyle: true
`;

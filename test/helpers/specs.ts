// Specs for tests: the valid base every bad-input case mutates, as an object and as YAML.
import { stringify } from "yaml";

export function baseSpec(): Record<string, any> {
  return {
    apiVersion: "k8s-ha/v1alpha1",
    kind: "Cluster",
    metadata: { name: "lab" },
    spec: {
      vip: "10.0.2.100",
      network: { interface: "enp0s3", prefixLength: 24, gateway: "10.0.2.1", nameservers: ["10.0.2.3"] },
      apiserver: { port: 6443 },
      loadBalancer: { port: 1644 },
      nodes: [
        { name: "master01", address: "10.0.2.10" },
        { name: "master02", address: "10.0.2.11" },
      ],
      vrrp: { virtualRouterId: 51, authPass: "42" },
    },
  };
}

export function specYaml(mutate: (spec: Record<string, any>) => void = () => {}): string {
  const spec = baseSpec();
  mutate(spec);
  return stringify(spec);
}

// What `up` and `status` report per node, for either provider.
export type VmAction = "created" | "reseeded" | "started" | "unchanged";

export interface NodeReport {
  node: string;
  address: string;
  action: VmAction;
  state: "ready" | "running" | "stopped";
  readySeconds?: number;
}

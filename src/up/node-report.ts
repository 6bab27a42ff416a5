// `status --report`: each running lab VM's own account of itself (cloud-init's result, the files,
// the services, addresses and routes, the firewall, keepalived's state changes), read through the
// lab agent (lab-seed.ts) and written to DIR/up/<node>/report.txt. The window into a lab node that
// has no SSH; the `up` VM test reads its assertions from it.
import { join } from "node:path";
import { ExternalError, UsageError } from "../errors.js";
import { writeFileAtomic } from "../write/atomic.js";
import { agentRequest } from "./agent.js";
import { REPORT_FILE } from "./layout.js";
import type { UpState, VmState } from "./state.js";

export interface WrittenReport {
  node: string;
  path: string;
}

export async function writeNodeReports(
  state: UpState,
  alive: (vm: VmState) => Promise<boolean>,
  log: (line: string) => void,
): Promise<WrittenReport[]> {
  if (state.provider !== "qemu" || !state.labMode)
    throw new UsageError(
      "--report asks each node's lab agent, which only a qemu lab started with --stand-in-apiserver has",
      "start the lab with `k8s-ha up --stand-in-apiserver`",
    );
  const written: WrittenReport[] = [];
  for (const vm of state.vms) {
    if (!(await alive(vm))) {
      log(`${vm.node}: not running, no report`);
      continue;
    }
    const reply = await agentRequest(vm.agent, vm.node, "report", 120_000);
    // base64 of the report; "unknown" from an agent older than the report
    if (!/^[A-Za-z0-9+/]+=*$/.test(reply))
      throw new ExternalError(
        `the lab agent of ${vm.node} answered "report" with ${JSON.stringify(reply.slice(0, 60))}, not a report`,
        "its lab seed predates `status --report`: run `k8s-ha up --stand-in-apiserver` again to re-seed it",
      );
    const path = join(vm.dir, REPORT_FILE);
    await writeFileAtomic(path, Buffer.from(reply, "base64"));
    log(`${vm.node}: report written to ${path}`);
    written.push({ node: vm.node, path });
  }
  return written;
}

// VRRP priorities and the health-check weight, chosen so that the VIP really moves.
//
// keepalived adds a vrrp_script's weight to the node's priority while the script fails. With a
// negative weight W the unhealthy holder must fall below every healthy node, so |W| must exceed
// the spread of priorities: the recipe's 200/100 with W = -2 drops the holder to 198, still above
// 100, and the VIP never moves.
//
// With `preempt: false` every node is BACKUP with `nopreempt`, and a BACKUP with nopreempt never
// takes over from a master that is still advertising, whatever their priorities (keepalived's
// vrrp_state_backup resets its timer on any advert). A negative weight therefore cannot move the
// VIP; weight 0 makes a failing check put the node into FAULT, which stops its adverts and
// releases the VIP. `weight: auto` picks 0 there.

/** Default priority of the last node; node i of n gets BASE + (n - 1 - i): 2 nodes → 101, 100. */
export const BASE_PRIORITY = 100;
export const MIN_WEIGHT = -253;

export interface PriorityInput {
  priority?: number;
}

/** Explicit priorities when every node gives one; otherwise descending from the first node. */
export function resolvePriorities(nodes: readonly PriorityInput[]): number[] {
  if (nodes.every((n) => n.priority !== undefined)) return nodes.map((n) => n.priority!);
  return nodes.map((_, i) => BASE_PRIORITY + (nodes.length - 1 - i));
}

/** The weight `auto` stands for. */
export function autoWeight(priorities: readonly number[], preempt: boolean): number {
  if (!preempt || priorities.length < 2) return 0;
  const spread = Math.max(...priorities) - Math.min(...priorities);
  return -(spread + 1);
}

/** Why `weight` cannot fail the VIP over, or undefined when it can. */
export function weightProblem(priorities: readonly number[], weight: number, preempt: boolean): string | undefined {
  if (weight === 0 || priorities.length < 2) return undefined;
  if (!preempt) {
    return (
      `with preempt: false every node runs nopreempt, and a backup never takes over from a master that still ` +
      `advertises, whatever its priority: a failing check with weight ${weight} leaves the VIP where it is`
    );
  }
  const max = Math.max(...priorities);
  const min = Math.min(...priorities);
  if (-weight > max - min) return undefined;
  return (
    `a failing health check lowers priority ${max} by ${-weight} to ${max + weight}, ` +
    `${max + weight >= min ? "still at or above" : "not below"} priority ${min}: the VIP never moves ` +
    `(|weight| must be greater than ${max - min}, the spread of the priorities)`
  );
}

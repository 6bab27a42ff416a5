// Constants the command declarations need. Kept apart from pipeline.ts so that program.ts,
// loaded on every start, does not pull in the spec loader, planner and renderers with them.

/** The spec file a command reads when none is given. */
export const DEFAULT_SPEC = "k8s-ha.yaml";

// Fields that are optional in the spec but that some commands cannot do without. Their absence is
// a finding like any other, located in the spec, so the user sees where to add them.
import type { Finding, Locator } from "./findings.js";
import type { Spec } from "./schema.js";

/** publish: publish, images list/pull and build-image --publish need spec.publish.s3. */
export type SpecRequirement = "publish";

export function checkRequirements(spec: Spec, at: Locator, requires: readonly SpecRequirement[]): Finding[] {
  if (!requires.includes("publish") || spec.spec.publish?.s3) return [];
  return [
    at.error(
      ["spec", "publish", "s3"],
      "not set: sharing images needs an S3 bucket",
      "add `publish: {s3: {bucket: golden-images, prefix: k8s-ha/, region: us-east-1}}` under spec " +
        "(plus endpoint and forcePathStyle: true for MinIO, Ceph RGW or another S3-compatible store)",
    ),
  ];
}

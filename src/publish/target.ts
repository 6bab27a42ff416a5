// spec.publish.s3 is optional in the spec but required by publish, images list/pull and
// build-image --publish. Its absence is reported like any other finding: located in the spec.
import { EXIT, ExitError } from "../cli/errors.js";
import { printFindings, summary } from "../cli/report.js";
import { loadSpecFile } from "../spec/load.js";
import type { S3Spec, Spec } from "../spec/schema.js";

export async function requirePublishTarget(file: string, spec: Spec, what = "nothing was published"): Promise<S3Spec> {
  const s3 = spec.spec.publish?.s3;
  if (s3) return s3;
  const { locator } = await loadSpecFile(file);
  const finding = locator.error(
    ["spec", "publish", "s3"],
    "not set: sharing images needs an S3 bucket",
    "add `publish: {s3: {bucket: golden-images, prefix: k8s-ha/, region: us-east-1}}` under spec " +
      "(plus endpoint and forcePathStyle: true for MinIO, Ceph RGW or another S3-compatible store)",
  );
  printFindings([finding], "text");
  throw new ExitError(EXIT.invalid, `${file}: ${summary([finding])}; ${what}`);
}

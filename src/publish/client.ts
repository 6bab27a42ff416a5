// The one place an S3Client is made from spec.publish.s3. Credentials come only from the SDK's
// standard chain (environment, shared config and SSO, web identity, container and instance
// roles): never from the spec, never printed.
import { S3Client } from "@aws-sdk/client-s3";
import type { S3Spec } from "../spec/schema.js";

/**
 * Idle time on a socket before a request fails. Generous: an S3-compatible store may say nothing
 * while it assembles a multi-GB multipart upload (s3rver and some on-premises stores do).
 */
const SOCKET_TIMEOUT_MS = 300_000;
const CONNECT_TIMEOUT_MS = 10_000;

export function createS3Client(s3: S3Spec): S3Client {
  // The SDK warns on every run under Node < 22 that its releases after January 2027 will need
  // Node 22. k8s-ha supports Node 20 with the SDK it ships; the warning would only confuse users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const custom = s3.endpoint !== undefined;
  const client = new S3Client({
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: SOCKET_TIMEOUT_MS },
    // The SDK sends `Expect: 100-continue` with every body over 2 MiB, and such a request gets a
    // connection of its own, never reused: a new TCP (and TLS) handshake and a wait for the
    // server's 100 for every part. What the header is for, a refusal before the body is sent,
    // publish gets earlier: the catalogue GET and the HEADs fail first on a missing bucket or
    // refused credentials. Without it the parts share kept-alive connections.
    expectContinueHeader: false,
    ...(custom
      ? {
          endpoint: s3.endpoint,
          // Since early 2025 the SDK sends a trailing CRC32 in an aws-chunked body by default.
          // s3rver and several S3-compatible stores (older MinIO and Ceph RGW among them) store
          // the chunk framing as object data or reject the request: checksum only when an
          // operation requires one. Integrity comes from our own sha256 (upload and pull).
          requestChecksumCalculation: "WHEN_REQUIRED" as const,
          responseChecksumValidation: "WHEN_REQUIRED" as const,
        }
      : {}),
  });
  // Parts go with `x-amz-content-sha256: UNSIGNED-PAYLOAD`, as the AWS CLI sends them over
  // HTTPS: otherwise SigV4 hashes every byte of every part once more, on top of the sha256 of
  // the whole file that publish computes anyway. Integrity does not rest on it: that sha256 is
  // checked as the file is read and again on every pull, and HTTPS (against AWS also the SDK's
  // per-part CRC32) covers the transport. Headers stay signed, x-amz-meta-sha256 included.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (context.commandName === "UploadPartCommand" && request.headers)
        request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      return next(args);
    },
    { step: "build", name: "k8sHaUnsignedParts" },
  );
  return client;
}

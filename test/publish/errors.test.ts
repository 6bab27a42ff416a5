// S3 failures become one line a user can act on, exit 3, and never show credentials.
import { describe, expect, it } from "vitest";
import { EXIT, UsageError } from "../../src/errors.js";
import { errorCode, IntegrityError, s3Failure, scrubSecrets } from "../../src/publish/errors.js";

const S3 = {
  bucket: "golden",
  prefix: "k8s-ha/",
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9000",
  forcePathStyle: true,
};
const AWS = { bucket: "golden", prefix: "", region: "eu-west-1", forcePathStyle: false };

const sdkError = (name: string, status: number, message = "x") =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:9000`), { code });

describe("s3Failure", () => {
  it.each([
    [
      sdkError("InvalidAccessKeyId", 403),
      /http:\/\/127\.0\.0\.1:9000 does not know this access key \(InvalidAccessKeyId\)/,
      /standard AWS chain/,
    ],
    [sdkError("SignatureDoesNotMatch", 403), /the secret key does not match the access key/, /standard AWS chain/],
    [sdkError("ExpiredToken", 400), /session credentials have expired/, /aws sso login/],
    [
      Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }),
      /no AWS credentials found/,
      /AWS_PROFILE/,
    ],
    [
      sdkError("NoSuchBucket", 404),
      /bucket "golden" does not exist at http:\/\/127\.0\.0\.1:9000 \(NoSuchBucket\)/,
      /--endpoint-url http:\/\/127\.0\.0\.1:9000/,
    ],
    [sdkError("AccessDenied", 403), /access denied \(AccessDenied\)/, /s3:PutObject.*s3:AbortMultipartUpload/],
    [sdkError("Unknown", 403), /access denied/, /s3:ListBucket/],
    [socketError("ECONNREFUSED"), /cannot reach http:\/\/127\.0\.0\.1:9000 \(ECONNREFUSED\)/, /is the store running/],
    [socketError("ECONNRESET"), /cannot reach .* \(ECONNRESET\)/, /endpoint/],
    [
      Object.assign(new AggregateError([socketError("ECONNREFUSED"), socketError("ECONNREFUSED")], ""), {
        code: "ECONNREFUSED",
      }),
      /\(ECONNREFUSED\)/,
      /store/,
    ],
    [sdkError("TimeoutError", 0), /stopped answering \(TimeoutError\)/, /run the command again/],
    [
      new IntegrityError("sha256 mismatch: expected a, got b", "rebuild it"),
      /sha256 mismatch: expected a, got b/,
      /rebuild it/,
    ],
    [
      sdkError("SlowDown", 503, "Please reduce your request rate."),
      /reading x: SlowDown: Please reduce your request rate\. \(HTTP 503\)/,
      undefined,
    ],
  ])("%s", (error, message, hint) => {
    const failure = s3Failure(error, "reading x", S3);
    expect(failure.code).toBe(EXIT.external);
    expect(failure.message).toMatch(/^reading x: /);
    expect(failure.message).toMatch(message);
    if (hint) expect(failure.hint).toMatch(hint);
  });

  it("names the region when the bucket lives elsewhere on AWS", () => {
    const failure = s3Failure(sdkError("PermanentRedirect", 301), "reading x", AWS);
    expect(failure.message).toMatch(/bucket "golden" is not in region eu-west-1/);
    expect(failure.hint).toMatch(/spec\.publish\.s3\.region/);
    expect(s3Failure(sdkError("NoSuchBucket", 404), "x", AWS).message).toMatch(/at AWS eu-west-1/);
  });

  it("local file errors keep Node's message, which names the file", () => {
    const error = Object.assign(new Error("EACCES: permission denied, open '/out/images/x.ova'"), {
      code: "EACCES",
      syscall: "open",
      errno: -13,
    });
    expect(s3Failure(error, "uploading /out/images/x.ova to s3://b/k", S3).message).toBe(
      "uploading /out/images/x.ova to s3://b/k: EACCES: permission denied, open '/out/images/x.ova'",
    );
  });

  it("passes our own exit errors through", () => {
    const usage = new UsageError("bad");
    expect(s3Failure(usage, "x", S3)).toBe(usage);
  });

  it("never prints credentials, even if a message carried them", () => {
    const env = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "s3cr3t/Key+", AWS_SESSION_TOKEN: "tok3n" };
    expect(scrubSecrets("key AKIAEXAMPLE secret s3cr3t/Key+ token tok3n", env)).toBe("key *** secret *** token ***");
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const failure = s3Failure(sdkError("Weird", 400, "echo s3cr3t/Key+"), "x", S3);
      expect(failure.message).not.toContain("s3cr3t");
    } finally {
      for (const name of Object.keys(env)) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  it("finds socket codes inside wrapped errors", () => {
    expect(errorCode(Object.assign(new Error("x"), { cause: socketError("EPIPE") }))).toBe("EPIPE");
    expect(errorCode(sdkError("NoSuchKey", 404))).toBe("NoSuchKey");
  });
});

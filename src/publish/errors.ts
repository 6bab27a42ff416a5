// S3 failures as messages a user can act on: ExternalError (exit 3) with a hint. Messages name
// the bucket, key and store; they never carry credentials (scrubSecrets is a last guard: the
// SDK's own messages do not include them either).
import { ExitError, ExternalError, InterruptedError } from "../errors.js";
import type { S3Spec } from "../spec/schema.js";
import { storeName } from "./layout.js";

/** The data of our own sha256 check failing: what was expected and what was found. */
export class IntegrityError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "IntegrityError";
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The S3 error code (NoSuchBucket…) or Node's socket error code (ECONNREFUSED…), if any. */
export function errorCode(error: unknown): string | undefined {
  const e = (error ?? {}) as SdkLikeError;
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  // Node 20 tries every address of "localhost" and reports an AggregateError
  for (const inner of [...(e.errors ?? []), e.cause]) {
    const code = (inner as SdkLikeError | undefined)?.code;
    if (code && NETWORK_CODES.has(code)) return code;
  }
  if (e.name && e.name !== "Error") return e.name;
  return e.code;
}

function httpStatus(error: unknown): number | undefined {
  return (error as SdkLikeError | undefined)?.$metadata?.httpStatusCode;
}

/** True for S3's "your condition failed" answers: someone else wrote the key first. */
export function isPreconditionFailure(error: unknown): boolean {
  const code = errorCode(error);
  return code === "PreconditionFailed" || code === "ConditionalRequestConflict" || httpStatus(error) === 412;
}

/** True when the store does not implement a header we sent (a conditional write, usually). */
export function isNotImplemented(error: unknown): boolean {
  return errorCode(error) === "NotImplemented" || httpStatus(error) === 501;
}

export function isNotFound(error: unknown): boolean {
  const code = errorCode(error);
  return code === "NoSuchKey" || code === "NotFound" || (httpStatus(error) === 404 && code !== "NoSuchBucket");
}

export function isAbort(error: unknown): boolean {
  return (error as SdkLikeError | undefined)?.name === "AbortError";
}

/** Replaces the values of credential variables that might have slipped into a message. */
export function scrubSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const name of ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"]) {
    const value = env[name];
    if (value && value.length >= 4) out = out.split(value).join("***");
  }
  return out;
}

const CREDENTIALS_HINT =
  "credentials come from the standard AWS chain: AWS_PROFILE (with ~/.aws/config), or " +
  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), SSO, or an instance role";

/**
 * `what` says what we were doing ("reading the catalogue s3://b/k"); the result says why it
 * failed and what to do. ExitErrors (ours) pass through unchanged.
 */
export function s3Failure(error: unknown, what: string, s3: S3Spec): ExitError {
  if (error instanceof ExitError) return error;
  const code = errorCode(error);
  const status = httpStatus(error);
  const where = storeName(s3);
  const raw = scrubSecrets((error as SdkLikeError | undefined)?.message ?? String(error));
  const fail = (message: string, hint?: string) => new ExternalError(`${what}: ${message}`, hint);

  if (error instanceof IntegrityError) {
    return fail(raw, error.hint);
  }
  // a local file (the OVA unreadable, gone): Node's message names the file and the reason
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall;
  if (typeof syscall === "string" && syscall !== "connect" && !(code && NETWORK_CODES.has(code))) return fail(raw);
  switch (code) {
    case "InvalidAccessKeyId":
      return fail(`${where} does not know this access key (InvalidAccessKeyId)`, CREDENTIALS_HINT);
    case "SignatureDoesNotMatch":
      return fail(`the secret key does not match the access key (SignatureDoesNotMatch)`, CREDENTIALS_HINT);
    case "ExpiredToken":
    case "TokenRefreshRequired":
    case "InvalidToken":
      return fail(
        `the session credentials have expired or are invalid (${code})`,
        `renew them (e.g. \`aws sso login\`); ${CREDENTIALS_HINT}`,
      );
    case "CredentialsProviderError":
      return fail("no AWS credentials found", CREDENTIALS_HINT);
    case "NoSuchBucket":
      return fail(
        `bucket "${s3.bucket}" does not exist at ${where} (NoSuchBucket)`,
        `create it (\`aws s3 mb s3://${s3.bucket}${s3.endpoint ? ` --endpoint-url ${s3.endpoint}` : ""}\`) or fix spec.publish.s3.bucket`,
      );
    case "AccessDenied":
    case "Forbidden":
    case "AllAccessDisabled":
      return fail(
        `access denied (${code})`,
        `the credentials need s3:GetObject, s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload and s3:ListBucket ` +
          `on ${s3.bucket}/${s3.prefix}* (without s3:ListBucket, S3 answers 403 for a missing key)`,
      );
    case "PermanentRedirect":
    case "AuthorizationHeaderMalformed":
    case "IllegalLocationConstraintException":
      return fail(
        `bucket "${s3.bucket}" is not in region ${s3.region} (${code})`,
        "set spec.publish.s3.region to the bucket's region",
      );
    case "TimeoutError":
    case "RequestTimeout":
      return fail(
        `${where} stopped answering (${code})`,
        "check the network and the store; then run the command again",
      );
  }
  if (code && NETWORK_CODES.has(code)) {
    return fail(
      `cannot reach ${where} (${code})`,
      s3.endpoint ? "is the store running and spec.publish.s3.endpoint right?" : "check the network",
    );
  }
  if (status === 301) {
    return fail(
      `bucket "${s3.bucket}" is not in region ${s3.region} (HTTP 301)`,
      "set spec.publish.s3.region to the bucket's region",
    );
  }
  if (status === 403) return s3Failure(Object.assign(new Error(raw), { name: "AccessDenied" }), what, s3);
  const label = code && code !== "Error" && code !== "Unknown" ? `${code}: ` : "";
  const http = status ? ` (HTTP ${status})` : "";
  return fail(`${label}${raw}${http}`);
}

/** The error to throw once `signal` fired: its reason when that is ours, else a plain interruption. */
function interruption(signal: AbortSignal): InterruptedError {
  return signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError();
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interruption(signal);
}

/** Runs an S3 step; its failure becomes an ExitError that says what was being done. */
export async function attempt<T>(step: () => Promise<T>, what: string, s3: S3Spec, signal?: AbortSignal): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (signal?.aborted) throw interruption(signal);
    throw s3Failure(error, what, s3);
  }
}

/**
 * A local file error (the output folder not writable, a full disk, an unreadable OVA) as an
 * ExternalError with the path in its message; after Ctrl-C, the interruption. Others pass through.
 */
export function localFailure(error: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return interruption(signal);
  const e = error as NodeJS.ErrnoException | undefined;
  if (error instanceof ExitError || typeof e?.syscall !== "string") return error;
  const hint =
    e.code === "ENOSPC"
      ? "free some space, or choose another -o DIR"
      : e.code === "EACCES" || e.code === "EPERM" || e.code === "EROFS"
        ? "check the permissions, or choose another -o DIR"
        : undefined;
  return new ExternalError(e.message, hint);
}

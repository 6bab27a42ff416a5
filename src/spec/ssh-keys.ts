// OpenSSH public keys as sshd reads them from authorized_keys. The schema's regex only sees the
// shape of the line; a truncated paste or a blob of another type passes it and then locks the
// user out at first boot, because sshd skips a line it cannot decode. The blob is decoded here
// (RFC 4253 6.6: length-prefixed fields) and the key itself handed to node:crypto, which refuses
// what OpenSSL (and so sshd) refuses: an ECDSA point off its curve, an RSA modulus of zero length.
// (sshpk did this before issue 13; it was a third of the code `render` loaded.)
import { createPublicKey, type JsonWebKey } from "node:crypto";

/** The fields of a key blob, in order; undefined when a length runs past the end. */
function fields(blob: Buffer): Buffer[] | undefined {
  const found: Buffer[] = [];
  for (let at = 0; at < blob.length;) {
    if (blob.length - at < 4) return undefined;
    const length = blob.readUInt32BE(at);
    if (blob.length - at - 4 < length) return undefined;
    found.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return found;
}

/** The type name every key blob begins with (a length-prefixed string). */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** An SSH mpint as the unsigned big-endian bytes JWK wants (no sign byte). */
const unsigned = (mpint: Buffer) => (mpint.length > 1 && mpint[0] === 0 ? mpint.subarray(1) : mpint);
const b64url = (bytes: Buffer) => bytes.toString("base64url");
const CURVES: Record<string, { crv: string; bytes: number }> = {
  nistp256: { crv: "P-256", bytes: 32 },
  nistp384: { crv: "P-384", bytes: 48 },
  nistp521: { crv: "P-521", bytes: 66 },
};

/** The key as a JWK that node:crypto can load, null when only its shape can be checked, undefined when damaged. */
function keyOf(type: string, parts: Buffer[]): JsonWebKey | null | undefined {
  if (type === "ssh-ed25519")
    return parts.length === 1 && parts[0]!.length === 32
      ? { kty: "OKP", crv: "Ed25519", x: b64url(parts[0]!) }
      : undefined;
  if (type === "ssh-rsa")
    return parts.length === 2 && parts.every((p) => p.length > 0)
      ? { kty: "RSA", e: b64url(unsigned(parts[0]!)), n: b64url(unsigned(parts[1]!)) }
      : undefined;
  if (type === "ssh-dss") return parts.length === 4 && parts.every((p) => p.length > 0) ? null : undefined;
  const curve = CURVES[type.replace(/^ecdsa-sha2-/, "")];
  if (!curve || parts.length !== 2 || parts[0]!.toString("latin1") !== type.replace(/^ecdsa-sha2-/, ""))
    return undefined;
  const point = parts[1]!;
  if (point[0] === 4 && point.length === 1 + 2 * curve.bytes) {
    return {
      kty: "EC",
      crv: curve.crv,
      x: b64url(point.subarray(1, 1 + curve.bytes)),
      y: b64url(point.subarray(1 + curve.bytes)),
    };
  }
  return (point[0] === 2 || point[0] === 3) && point.length === 1 + curve.bytes ? null : undefined; // compressed: its shape only
}

/** What is wrong with one authorized_keys line that matched schema.SSH_KEY; undefined when it decodes. */
export function sshKeyProblem(line: string): string | undefined {
  const [declared, base64] = line.split(" ");
  const blob = Buffer.from(base64!, "base64");
  // ssh-keygen always pads; Node's decoder silently skips what it cannot read: so a length that is
  // not a multiple of 4, or bytes that do not encode back to the same text, are damaged base64.
  if (base64!.length % 4 !== 0 || blob.toString("base64") !== base64)
    return "its base64 is damaged (wrong length or padding)";
  const inner = blobType(blob);
  if (inner === undefined) return "its key data is truncated: it does not even hold the key type";
  if (inner !== declared) return `the line says ${declared} but the key data is a ${inner} key`;
  // the security-key (sk-) types are checked by their type word only, as before
  if (declared!.startsWith("sk-")) return undefined;
  const damaged = `its ${declared} key data is truncated or damaged`;
  const parts = fields(blob);
  const key = parts && keyOf(declared!, parts.slice(1));
  if (key === undefined) return damaged;
  if (key === null) return undefined;
  try {
    createPublicKey({ key, format: "jwk" });
  } catch {
    return damaged;
  }
  return undefined;
}

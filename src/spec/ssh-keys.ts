// OpenSSH public keys as sshd reads them from authorized_keys. The schema's regex only sees the
// shape of the line; a truncated paste or a blob of another type passes it and then locks the
// user out at first boot, because sshd skips a line it cannot decode. sshpk decodes the blob.
import sshpk from "sshpk";

/** The type name every key blob begins with (RFC 4253 6.6: a length-prefixed string). */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** What is wrong with one authorized_keys line that matched schema.SSH_KEY; undefined when it decodes. */
export function sshKeyProblem(line: string): string | undefined {
  const [declared, base64] = line.split(" ");
  const blob = Buffer.from(base64!, "base64");
  // ssh-keygen always pads; Node's decoder silently skips what it cannot read: so a length that is
  // not a multiple of 4, or bytes that do not encode back to the same text, are damaged base64.
  if (base64!.length % 4 !== 0 || blob.toString("base64") !== base64) return "its base64 is damaged (wrong length or padding)";
  const inner = blobType(blob);
  if (inner === undefined) return "its key data is truncated: it does not even hold the key type";
  if (inner !== declared) return `the line says ${declared} but the key data is a ${inner} key`;
  // sshpk 1.18 does not know the security-key (sk-) types; their type word was checked above.
  if (declared!.startsWith("sk-")) return undefined;
  try {
    sshpk.parseKey(line, "ssh");
  } catch {
    return `its ${declared} key data is truncated or damaged`;
  }
  return undefined;
}

// The stand-in kube-apiserver: HTTPS on apiserver.port with a self-signed certificate, answering
// /healthz like the real one ("ok", 200). Its mode file switches it to failing (500) without a
// restart, as a broken etcd makes a real apiserver do; "stopped" is simply the process ended.
//
// The stub is plain JavaScript written into the lab folder and run by this same `node` binary inside
// the node's namespace: it works alike from dist/ and from the TypeScript sources under test, and a
// --keep lab keeps everything it runs in one folder.
import { ExternalError } from "../errors.js";
import { describeExit, run } from "../tools/run.js";

export const STUB_FILE = "apiserver-stub.mjs";

export const STUB_SOURCE = `// k8s-ha rehearsal: stand-in kube-apiserver (generated; removed with the lab)
// usage: node ${STUB_FILE} PORT CERT KEY MODE_FILE READY_FILE
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";

const [port, cert, key, modeFile, readyFile] = process.argv.slice(2);
const mode = () => {
  try {
    return readFileSync(modeFile, "utf8").trim();
  } catch {
    return "ok";
  }
};
const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
  const failing = mode() === "fail";
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/healthz" || path === "/livez" || path === "/readyz") {
    res.writeHead(failing ? 500 : 200, { "content-type": "text/plain" });
    res.end(failing ? "[-]etcd failed: rehearsal says so\\nhealthz check failed" : "ok");
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("404 page not found");
});
server.keepAliveTimeout = 1000;
server.listen(Number(port), "0.0.0.0", () => {
  writeFileSync(readyFile, String(process.pid));
  console.log(\`stub apiserver \${process.pid} listening on :\${port}\`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    console.log(\`stub apiserver \${process.pid}: \${signal}, stopping\`);
    process.exit(0);
  });
}
`;

/** A throwaway self-signed certificate for every stub of the lab (haproxy checks with verify none). */
export async function makeCertificate(openssl: string, certFile: string, keyFile: string): Promise<void> {
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"];
  args.push("-subj", "/CN=kube-apiserver (k8s-ha rehearsal)", "-keyout", keyFile, "-out", certFile);
  const result = await run(openssl, args, { timeoutMs: 30_000 });
  if (result.code !== 0) {
    throw new ExternalError(
      `${describeExit("openssl", result)} making the stub's certificate: ${result.stderr.trim()}`,
    );
  }
}

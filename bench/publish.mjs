#!/usr/bin/env node
// Benchmark of issues 5 and 13: `k8s-ha publish` of a stand-in OVA to a local S3 server against
// `aws s3 cp` of the same file to the same server, and `k8s-ha images pull` of it against
// `aws s3 cp` back down, in one run, as throughput ratios, with the peak memory (VmHWM, the
// resident high-water mark from /proc) of each process.
// Goals: ratios >= 1 (no slower than aws s3 cp); k8s-ha's peak under 256 MiB whatever the size.
//
// The server is s3rver (the tests' server) in its own process on 127.0.0.1, so that its memory
// and CPU are not counted for either client. It is single-threaded and writes every byte twice
// (parts, then the assembled object): it bounds both clients' throughput, which is why each size
// runs --rounds times, alternating which client goes first, and the medians are compared.
//
// Usage: npm run build && node bench/publish.mjs [--sizes 1,2,4] [--rounds 3] [--aws /usr/bin/aws] [--dir /var/tmp]
//   --sizes   GiB, comma separated (default 2)
//   --aws     the AWS CLI (default: Debian's /usr/bin/aws from `apt-get install awscli`, else aws on PATH)
//   --dir     where the stand-in file and the server's data go (needs about 3 × the largest size free)
// Needs Linux (/proc). Not part of `npm test`.
//
// aws-cli runs with --cli-read-timeout 300, the socket timeout k8s-ha's client has
// (src/publish/client.ts): s3rver assembles the whole object before it answers CompleteMultipartUpload, which
// at 2 GiB on a loaded machine takes longer than aws-cli's default 60 s; aws-cli then sends the
// request again, the parts are gone, and s3rver answers InternalError (the failure of the first
// 2 GiB attempts of issue 13).
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
  closeSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "dist/k8s-ha.cjs");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg("sizes", "2").split(",").map(Number);
const rounds = Number(arg("rounds", "3"));
const aws = arg("aws", existsSync("/usr/bin/aws") ? "/usr/bin/aws" : "aws");
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const NAME = "bench-image";
const VERSION = "1.0.0";
const BUCKET = "bench";

if (!existsSync(bin)) throw new Error("run `npm run build` first");
const awsVersion = spawnSync(aws, ["--version"], { encoding: "utf8" });
const AWS_OPTIONS = ["--only-show-errors", "--cli-read-timeout", "300"];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
if (awsVersion.status !== 0) throw new Error(`${aws} not found: apt-get install awscli (or pass --aws PATH)`);

const work = mkdtempSync(join(arg("dir", tmpdir()), "k8s-ha-bench-publish-"));
const credentials = {
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_REGION: "us-east-1",
  AWS_DEFAULT_REGION: "us-east-1",
  AWS_CONFIG_FILE: join(work, "no-aws-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(work, "no-aws-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
};
const env = { ...process.env, ...credentials };
delete env.AWS_PROFILE;

/** s3rver in a child process; resolves to its endpoint. */
function startServer(directory) {
  const script = `
    import S3rver from "s3rver";
    const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: ${JSON.stringify(directory)},
      configureBuckets: [{ name: ${JSON.stringify(BUCKET)} }] });
    const { port } = await server.run();
    process.stdout.write(port + "\\n");
    process.on("SIGTERM", () => server.close(() => process.exit(0)));`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolvePort, reject) => {
    child.on("error", reject);
    child.stdout.once("data", (data) => resolvePort({ child, endpoint: `http://127.0.0.1:${String(data).trim()}` }));
  });
}

/** user + system CPU seconds of a process so far (/proc/PID/stat, clock ticks of 1/100 s). */
/** /proc/PID/stat's fields from the state on (field 3 of proc(5) at index 0). */
const statFields = (pid) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");

function cpuSeconds(pid) {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Minor page faults (minflt): a first touch of fresh memory costs ~15 us each on the 2-core VMs
 * (docs/benchmarks.md), so a client that keeps touching new buffers pays for it in CPU time.
 */
const minorFaults = (pid) => Number(statFields(pid)[7]);

/**
 * Runs a program; resolves to its wall time, peak resident memory (VmHWM) and CPU time, both
 * polled every 20 ms, and the CPU time the server spent meanwhile: on 2 cores the client and the
 * server share the machine, so a client that burns less CPU leaves more to the server.
 * Each run starts after `sync`: without it, the run after an upload shares the disk with the
 * kernel writing back the gigabytes the server just stored (measured: a 4 GiB pull took 24 s in
 * that slot and 13-16 s timed alone), and the alternating order gives that slot to one client
 * twice in three rounds.
 */
function measure(argv, serverPid) {
  spawnSync("sync");
  return new Promise((resolveRun, reject) => {
    const started = process.hrtime.bigint();
    const serverBefore = cpuSeconds(serverPid);
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let peakKiB = 0;
    let cpu = 0;
    let faults = 0;
    child.stderr.on("data", (c) => (stderr += c));
    const poll = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
        cpu = cpuSeconds(child.pid);
        faults = minorFaults(child.pid);
      } catch {
        // exited between two polls
      }
    }, 20);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const serverCpu = cpuSeconds(serverPid) - serverBefore;
      if (code !== 0) reject(new Error(`${argv.join(" ")} exited ${code}:\n${stderr}`));
      else resolveRun({ seconds, peakMiB: peakKiB / 1024, cpu, faults, serverCpu });
    });
  });
}

/** The stand-in OVA (a random 16 MiB block repeated) and the image record build-image would write. */
function writeStandIn(out, bytes) {
  const images = join(out, "images");
  mkdirSync(images, { recursive: true });
  const file = `${NAME}-${VERSION}.ova`;
  const block = randomBytes(16 * MiB);
  const hash = createHash("sha256");
  const fd = openSync(join(images, file), "w");
  for (let written = 0; written < bytes;) {
    const chunk = block.subarray(0, Math.min(block.length, bytes - written));
    writeSync(fd, chunk);
    hash.update(chunk);
    written += chunk.length;
  }
  closeSync(fd);
  const record = {
    name: NAME,
    version: VERSION,
    file,
    size: bytes,
    sha256: hash.digest("hex"),
    specSha256: "0".repeat(64),
    templateFingerprint: "0".repeat(64),
    packerVersion: "bench",
    builtAt: new Date().toISOString(),
    buildSeconds: 0,
  };
  writeFileSync(join(images, `${NAME}-${VERSION}.json`), `${JSON.stringify(record, null, 2)}\n`);
  return join(images, file);
}

function writeSpec(path, endpoint) {
  const spec = `apiVersion: k8s-ha/v1alpha1
kind: Cluster
metadata: {name: bench}
spec:
  vip: 10.0.2.100
  network: {interface: enp0s3, prefixLength: 24}
  nodes: [{name: m1, address: 10.0.2.10}, {name: m2, address: 10.0.2.11}]
  image: {name: ${NAME}, version: ${VERSION}}
  publish:
    s3: {bucket: ${BUCKET}, prefix: bench/, region: us-east-1, endpoint: "${endpoint}", forcePathStyle: true}
`;
  writeFileSync(path, spec);
}

const rows = [];
const server = await startServer(join(work, "store"));
try {
  const spec = join(work, "k8s-ha.yaml");
  writeSpec(spec, server.endpoint);
  console.log(`server: s3rver in its own process at ${server.endpoint}; aws: ${awsVersion.stdout.trim()}`);
  const part = process.env.K8S_HA_S3_PART_SIZE_MIB ?? "8";
  const concurrency = process.env.K8S_HA_S3_CONCURRENCY ?? "4";
  const shipped = !process.env.K8S_HA_S3_PART_SIZE_MIB && !process.env.K8S_HA_S3_CONCURRENCY;
  console.log(
    `k8s-ha: ${part} MiB parts × ${concurrency} at once${shipped ? " (as shipped)" : " (K8S_HA_S3_* set)"}; rounds: ${rounds}\n`,
  );
  for (const gib of sizes) {
    const out = join(work, "out");
    rmSync(out, { recursive: true, force: true });
    const ova = writeStandIn(out, Math.round(gib * GiB));
    const loadBefore = load();
    const ours = [];
    const theirs = [];
    const oursDown = [];
    const theirsDown = [];
    const pulled = join(work, "pulled");
    const downloaded = join(work, "downloaded.ova");
    for (let round = 0; round < rounds; round++) {
      const runOurs = async () =>
        ours.push(await measure([process.execPath, bin, "publish", spec, "-o", out, "--force"], server.child.pid));
      const runTheirs = async () =>
        theirs.push(
          await measure(
            [aws, "--endpoint-url", server.endpoint, "s3", "cp", ova, `s3://${BUCKET}/aws/${NAME}.ova`, ...AWS_OPTIONS],
            server.child.pid,
          ),
        );
      const runOursDown = async () => {
        rmSync(pulled, { recursive: true, force: true });
        oursDown.push(
          await measure(
            [process.execPath, bin, "images", "pull", spec, `${NAME}@${VERSION}`, "-o", pulled],
            server.child.pid,
          ),
        );
      };
      const runTheirsDown = async () => {
        rmSync(downloaded, { force: true });
        theirsDown.push(
          await measure(
            [
              aws,
              "--endpoint-url",
              server.endpoint,
              "s3",
              "cp",
              `s3://${BUCKET}/aws/${NAME}.ova`,
              downloaded,
              ...AWS_OPTIONS,
            ],
            server.child.pid,
          ),
        );
      };
      const order =
        round % 2 === 0
          ? [runOurs, runTheirs, runOursDown, runTheirsDown]
          : [runTheirs, runOurs, runTheirsDown, runOursDown];
      for (const run of order) await run();
    }
    rmSync(pulled, { recursive: true, force: true });
    rmSync(downloaded, { force: true });
    /** The run of median time (the lower middle one for an even count). */
    const median = (runs) => [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)];
    const peak = (runs) => Math.max(...runs.map((r) => r.peakMiB));
    const o = median(ours);
    const t = median(theirs);
    const rate = (seconds) => (gib * 1024) / seconds;
    const kilo = (n) => `${(n / 1000).toFixed(0)}k`;
    const od = median(oursDown);
    const td = median(theirsDown);
    rows.push({
      gib,
      ours: o,
      theirs: t,
      ratio: rate(o.seconds) / rate(t.seconds),
      oursPeak: Math.max(peak(ours), peak(oursDown)),
      theirsPeak: peak(theirs),
      down: rate(od.seconds) / rate(td.seconds),
    });
    const row = rows.at(-1);
    console.log(
      `${String(gib).padStart(3)} GiB  k8s-ha publish ${o.seconds.toFixed(1).padStart(6)} s ${rate(o.seconds).toFixed(1).padStart(6)} MiB/s peak ${row.oursPeak.toFixed(0).padStart(4)} MiB cpu ${o.cpu.toFixed(1)} s faults ${kilo(o.faults)} (server ${o.serverCpu.toFixed(1)} s)` +
        `   aws s3 cp ${t.seconds.toFixed(1).padStart(6)} s ${rate(t.seconds).toFixed(1).padStart(6)} MiB/s peak ${row.theirsPeak.toFixed(0).padStart(4)} MiB cpu ${t.cpu.toFixed(1)} s faults ${kilo(t.faults)} (server ${t.serverCpu.toFixed(1)} s)` +
        `   throughput ratio ${row.ratio.toFixed(2)}x`,
    );
    console.log(
      `${String(gib).padStart(3)} GiB  k8s-ha images pull ${od.seconds.toFixed(1).padStart(6)} s ${rate(od.seconds).toFixed(1).padStart(6)} MiB/s peak ${peak(oursDown).toFixed(0).padStart(4)} MiB cpu ${od.cpu.toFixed(1)} s faults ${kilo(od.faults)}` +
        `   aws s3 cp (download) ${td.seconds.toFixed(1).padStart(6)} s ${rate(td.seconds).toFixed(1).padStart(6)} MiB/s peak ${peak(theirsDown).toFixed(0).padStart(4)} MiB cpu ${td.cpu.toFixed(1)} s faults ${kilo(td.faults)}` +
        `   throughput ratio ${row.down.toFixed(2)}x`,
    );
    console.log(
      `${String(gib).padStart(3)} GiB  load average (1, 5, 15 min) before ${loadBefore}, after ${load()} on ${cpus().length} cores; rounds ${rounds}`,
    );
    rmSync(ova, { force: true });
  }
  console.log();
  const worst = Math.min(...rows.map((r) => r.ratio));
  const peakAll = Math.max(...rows.map((r) => r.oursPeak));
  console.log(
    `upload throughput vs aws s3 cp: worst ratio ${worst.toFixed(2)}x (goal >= 1.00, medians of ${rounds} round(s) each)`,
  );
  console.log(
    `pull throughput vs aws s3 cp: worst ratio ${Math.min(...rows.map((r) => r.down)).toFixed(2)}x (goal >= 1.00)`,
  );
  console.log(
    `k8s-ha peak memory: ${peakAll.toFixed(0)} MiB at up to ${Math.max(...sizes)} GiB (goal < 256 MiB) ${peakAll < 256 ? "ok" : "OVER"}`,
  );
} finally {
  server.child.kill("SIGTERM");
  await new Promise((r) => server.child.once("close", r));
  rmSync(work, { recursive: true, force: true });
}

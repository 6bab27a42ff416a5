// An HTTP front on 127.0.0.1 before s3rver, for the race tests (issue 18):
//   - `barrier`: the first N GETs of a catalogue are held until all N have arrived, so that N
//     publishers started together surely all read "not published yet" and race to the commit
//     (without it, process start-up jitter decides and most rounds race nothing);
//   - `conditional`: PUTs carrying If-None-Match: * or If-Match are evaluated against the object's
//     current ETag under a per-key lock and refused with S3's 412 PreconditionFailed, as AWS S3
//     does. s3rver 3.7.1 ignores these headers and no S3 server with conditional writes is
//     packaged for npm or Debian 12; this is our stand-in for such a store, not a third-party one.
// Everything else is passed through byte for byte (s3rver does not check SigV4 signatures, so
// the Host header may change).
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";

export interface Front {
  endpoint: string;
  /** PUTs refused with 412. */
  refused: number;
  stop(): Promise<void>;
}

export async function startFront(
  upstream: string,
  options: { conditional: boolean; barrier?: number },
): Promise<Front> {
  const target = new URL(upstream);
  const locks = new Map<string, Promise<void>>();
  let waiting: (() => void)[] = [];
  let arrived = 0;
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, res: ServerResponse, method = req.method, body = true) =>
    new Promise<void>((resolve) => {
      const headers = { ...req.headers, host: target.host };
      if (!body)
        for (const name of ["content-length", "content-type", "content-md5", "transfer-encoding"]) delete headers[name];
      const out = httpRequest(
        { host: target.hostname, port: target.port, method, path: req.url, headers },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res).on("finish", resolve);
        },
      );
      out.on("error", () => {
        res.destroy();
        resolve();
      });
      if (body) req.pipe(out);
      else out.end();
    });

  /** The ETag of the object now, or undefined when there is none (a HEAD to s3rver). */
  const currentEtag = (req: IncomingMessage) =>
    new Promise<string | undefined>((resolve, reject) => {
      const headers = { ...req.headers, host: target.host };
      for (const name of [
        "content-length",
        "content-type",
        "content-md5",
        "transfer-encoding",
        "if-match",
        "if-none-match",
      ])
        delete headers[name];
      const head = httpRequest(
        { host: target.hostname, port: target.port, method: "HEAD", path: req.url, headers },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200 ? String(res.headers.etag) : undefined);
        },
      );
      head.on("error", reject);
      head.end();
    });

  const conditionalPut = async (req: IncomingMessage, res: ServerResponse) => {
    const key = (req.url ?? "").split("?")[0]!;
    const previous = locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    locks.set(
      key,
      previous.then(() => mine),
    );
    await previous;
    try {
      const etag = await currentEtag(req);
      const ifNoneMatch = req.headers["if-none-match"];
      const ifMatch = req.headers["if-match"];
      const failed = (ifNoneMatch === "*" && etag !== undefined) || (ifMatch !== undefined && ifMatch !== etag);
      if (!failed) return await forward(req, res);
      front.refused++;
      req.resume();
      res.writeHead(412, { "content-type": "application/xml" });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
          `<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>${ifNoneMatch ? "If-None-Match" : "If-Match"}</Condition></Error>`,
      );
    } finally {
      release();
    }
  };

  const server: Server = createServer((req, res) => {
    const isCatalogueGet = req.method === "GET" && /\/index\.json$/.test(req.url ?? "");
    if (options.barrier && isCatalogueGet && arrived < options.barrier) {
      arrived++;
      const go = () => void forward(req, res);
      if (arrived < options.barrier) {
        waiting.push(go);
        return;
      }
      for (const next of [...waiting, go]) next();
      waiting = [];
      return;
    }
    const conditional =
      req.method === "PUT" &&
      !/[?&]uploadId=/.test(req.url ?? "") &&
      (req.headers["if-none-match"] || req.headers["if-match"]);
    if (options.conditional && conditional) void conditionalPut(req, res);
    else void forward(req, res);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const front: Front = {
    endpoint: `http://127.0.0.1:${port}`,
    refused: 0,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return front;
}

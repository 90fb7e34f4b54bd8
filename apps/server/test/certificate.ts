import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Certificate {
  /** PEM, for the server's `tlsCert` and for clients to trust. */
  cert: string;
  key: string;
  /** Where the certificate is written, for clients that take a path (grpcurl -cacert). */
  certPath: string;
  remove(): Promise<void>;
}

/** A self-signed certificate for localhost and 127.0.0.1, good for a day, made with openssl. */
export async function makeCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), "greeter-cert-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  await run("openssl", [
    ..."req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost".split(" "),
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout",
    keyPath,
    "-out",
    certPath,
  ]);
  return {
    cert: await readFile(certPath, "utf8"),
    key: await readFile(keyPath, "utf8"),
    certPath,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

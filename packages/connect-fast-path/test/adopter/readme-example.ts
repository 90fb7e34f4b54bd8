import http from "node:http";
import http2 from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createFastPath, type NodeRequest, type NodeResponse } from "@greeter/connect-fast-path";
import routes from "./connect.js"; // (router: ConnectRouter) => void

// The same options for both; createFastPath refuses any it would ignore.
const options = { routes, interceptors: [], readMaxBytes: 4 * 1024 * 1024 };
const fastPath = createFastPath(options);
const connect = connectNodeAdapter(options);

function serve(req: NodeRequest, res: NodeResponse): void {
  if (!fastPath.handle(req, res)) connect(req, res); // handed on
}

// gRPC needs HTTP/2; browsers speak HTTP/1.1 to a cleartext port.
export const h2 = http2.createServer(serve);
export const h1 = http.createServer(serve);
if (import.meta.main) {
  h2.listen(8080);
  h1.listen(8081);
}

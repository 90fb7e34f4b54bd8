import type { AddressInfo, Server, Socket } from "node:net";

/** A server listening on a free loopback port. */
export interface Listening {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Drops every open connection (clients keep theirs open) and closes the server. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, port 0, and keeps track of the connections it accepts, to drop them on close. */
export async function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A TCP proxy in front of the test PostgreSQL server, to take the database "down" and back up in a test
 * without touching the real server. Two kinds of outage:
 *   stop()  refused: cuts every connection and refuses new ones (a stopped server);
 *   hang()  hanging: every connection, open or new, is held open in silence (a partitioned network, a
 *           frozen server): nothing is refused, nothing is answered, only a timeout ends a query.
 */
import net, { type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** postgres://127.0.0.1:<proxy port>/<same database> */
  url: string;
  /** Cuts every open connection and stops listening (the database looks down). */
  stop(): Promise<void>;
  /** Listens again on the same port, forwarding again (after stop()). */
  start(): Promise<void>;
  /**
   * The database hangs: open connections stop forwarding in both directions and new connections are
   * accepted but never forwarded nor answered. stop() then start() ends it.
   */
  hang(): void;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let hanging = false;
  let server: Server | undefined;
  let port = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        track(client);
        if (hanging) {
          client.pause(); // accepted, never read from, never answered
          return;
        }
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        track(upstream);
        const pair: [Socket, Socket] = [client, upstream];
        pairs.add(pair);
        client.pipe(upstream).pipe(client);
        client.on('close', () => {
          pairs.delete(pair);
          upstream.destroy();
        });
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  await listen();
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.href,
    async stop() {
      const s = server;
      server = undefined;
      hanging = false;
      for (const socket of sockets) socket.destroy();
      pairs.clear();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start: listen,
    hang() {
      hanging = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
  };
}

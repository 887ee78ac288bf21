import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/** kafkajs' own keep-alive delay */
const KEEP_ALIVE_DELAY_MS = 60_000;

/**
 * kafkajs' default socket factory with Nagle's algorithm off (TCP_NODELAY), as Kafka's own
 * Java client and broker set it on every connection. kafkajs keeps Node's default, Nagle on,
 * under which a small request written while an earlier one on the connection is still
 * unacknowledged waits for that ACK, up to the peer's delayed-ACK timer. Over this machine's
 * loopback the peer acknowledges at once and it measured no difference (docs/performance.md);
 * on a real network the wait is a round trip or more.
 */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect(
        { host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl },
        onConnect,
      )
    : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
  // Before the connection is up Node keeps the setting and applies it on connect.
  socket.setNoDelay(true);
  return socket;
};

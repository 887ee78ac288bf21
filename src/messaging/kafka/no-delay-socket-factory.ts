import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/** kafkajs' own keep-alive delay */
const KEEP_ALIVE_DELAY_MS = 60_000;

/**
 * kafkajs' default socket factory with Nagle's algorithm off (TCP_NODELAY), as Kafka's own
 * Java client and broker set it on every connection (`Selector`, `SocketServer`). kafkajs
 * keeps Node's default, Nagle on: a request written
 * while an earlier one on the same connection is not yet acknowledged waits for that ACK, and
 * behind a long-polling fetch the broker acknowledges only when its delayed-ACK timer fires
 * (tens of milliseconds), so an offset commit or heartbeat could wait that long
 * (docs/performance.md "Latency").
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

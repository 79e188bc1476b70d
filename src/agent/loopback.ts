// Whether a listen address keeps a server to this host: the RPC, HTTP API and DNS warn otherwise.
import net from 'node:net';

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  // ::ffff:127.x.y.z is IPv4 loopback reached over an IPv6 socket.
  return /^::ffff:127\./i.test(host);
}

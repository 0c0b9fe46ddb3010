/**
 * TCP socket states on this machine from /proc/net/tcp{,6} (Linux; no `ss` needed): lets a test check that a
 * server really closed its connections, not only that its metrics say so.
 */
import * as fs from 'node:fs';

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** How many sockets whose LOCAL port is `port` are in each state, e.g. { LISTEN: 1, CLOSE_WAIT: 3 }. */
export function serverSocketStates(port: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4) continue;
      const localPort = parseInt(fields[1].split(':')[1], 16);
      if (localPort !== port) continue;
      const state = STATES[fields[3]] ?? fields[3];
      counts[state] = (counts[state] ?? 0) + 1;
    }
  }
  return counts;
}

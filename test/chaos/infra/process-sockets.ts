import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Which process owns a TCP connection, from Linux's /proc: the connection's local port (what a
 * server sees as the client's port) → its socket inode (/proc/net/tcp) → the process holding that
 * socket open (/proc/<pid>/fd). Lets the suite ask "which worker is calling Spectrum right now"
 * without any hook in the connector.
 */
export function pidsOwningLocalPorts(ports: number[], candidates: number[]): Map<number, number> {
  const wanted = new Set(ports);
  const inodeToPort = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const port = parseInt(fields[1].split(':')[1], 16);
      if (wanted.has(port)) inodeToPort.set(fields[9], port);
    }
  }
  const owners = new Map<number, number>();
  if (!inodeToPort.size) return owners;
  for (const pid of candidates) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      const port = inode ? inodeToPort.get(inode) : undefined;
      if (port !== undefined) owners.set(port, pid);
    }
  }
  return owners;
}

/** `host:port,host:port[/chroot]`, as every ZooKeeper client accepts it. */

export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectString {
  hosts: HostPort[];
  /** '' when there is no chroot; otherwise a path such as `/app` (no trailing slash). */
  chroot: string;
}

const DEFAULT_PORT = 2181;
const MAX_HOSTS = 256;

export class ConnectStringError extends Error {
  readonly code = 'ZABLAB_CLIENT_CONNECT_STRING';
  constructor(input: string, why: string) {
    super(`invalid connect string ${JSON.stringify(input)}: ${why}; expected host:port[,host:port...][/chroot]`);
    this.name = 'ConnectStringError';
  }
}

function parseHost(entry: string, input: string): HostPort {
  // [v6addr]:port, host:port, or host alone.
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  const m = v6 ?? /^([^:]+)(?::(\d+))?$/.exec(entry);
  if (m === null) throw new ConnectStringError(input, `cannot read host ${JSON.stringify(entry)}`);
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConnectStringError(input, `port out of range in ${JSON.stringify(entry)}`);
  }
  return { host: m[1]!, port };
}

export function parseConnectString(input: string): ConnectString {
  const slash = input.indexOf('/');
  const hostPart = slash === -1 ? input : input.slice(0, slash);
  let chroot = slash === -1 ? '' : input.slice(slash);
  if (chroot === '/') chroot = '';
  if (chroot.endsWith('/')) throw new ConnectStringError(input, 'the chroot must not end with /');
  if (chroot.includes('//')) throw new ConnectStringError(input, 'the chroot has an empty path segment');
  const entries = hostPart
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) throw new ConnectStringError(input, 'no host');
  if (entries.length > MAX_HOSTS) throw new ConnectStringError(input, `more than ${MAX_HOSTS} hosts`);
  return { hosts: entries.map((e) => parseHost(e, input)), chroot };
}

/** The path the server sees. */
export function prependChroot(chroot: string, clientPath: string): string {
  if (chroot === '') return clientPath;
  return clientPath === '/' ? chroot : chroot + clientPath;
}

/** The path the caller sees; paths outside the chroot are returned unchanged. */
export function stripChroot(chroot: string, serverPath: string): string {
  if (chroot === '') return serverPath;
  if (serverPath === chroot) return '/';
  if (serverPath.startsWith(chroot + '/')) return serverPath.slice(chroot.length);
  return serverPath;
}

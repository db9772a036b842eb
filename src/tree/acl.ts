/**
 * ACLs: the auth providers ZooKeeper ships (world, digest, ip, sasl, x509, plus the 'auth'
 * and 'super' conventions), permission checks and the ACL fix-up applied to create/setACL
 * requests. Which schemes an ACL may name is the server's ProviderRegistry: digest and ip
 * always, sasl and x509 when zoo.cfg registers them (authProvider.N, or secureClientPort for
 * x509), as ZooKeeper's ProviderRegistry does.
 */
import { createHash } from 'node:crypto';
import { Code, KeeperException, Perms, type ACL } from '../jute/index.js';

/** What a connection authenticated as (one connection may hold several). */
export interface AuthId {
  scheme: string;
  id: string;
}

/** An authentication scheme as the server sees it (ZooKeeper's AuthenticationProvider). */
export interface AuthProvider {
  readonly scheme: string;
  /** Whether ids of this scheme identify a user, so that 'auth' ACLs may expand to them. */
  readonly isAuthenticated: boolean;
  /** Whether `id` is well formed for an ACL entry of this scheme. */
  isValid(id: string): boolean;
  /** Whether the connection's id satisfies the ACL entry's id. */
  matches(id: string, aclExpr: string): boolean;
}

export const Ids = {
  ANYONE_ID_UNSAFE: { scheme: 'world', id: 'anyone' },
  AUTH_IDS: { scheme: 'auth', id: '' },
} as const;

export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perms.ALL, id: Ids.ANYONE_ID_UNSAFE }]);
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([{ perms: Perms.ALL, id: Ids.AUTH_IDS }]);
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perms.READ, id: Ids.ANYONE_ID_UNSAFE }]);

/** Java's String.split: trailing empty strings are dropped. */
function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * 'user:password' -> 'user:base64(sha1("user:password"))', the id a digest ACL names and
 * the id `addauth digest user:password` gives a connection.
 */
export function digestOf(userPassword: string): string {
  const colon = userPassword.indexOf(':');
  const user = colon === -1 ? userPassword : userPassword.slice(0, colon);
  const hash = createHash('sha1').update(userPassword, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

export const digestProvider: AuthProvider = {
  scheme: 'digest',
  isAuthenticated: true,
  isValid: (id) => javaSplit(id, ':').length === 2,
  matches: (id, aclExpr) => id === aclExpr,
};

// --- ip ---

function v4Bytes(addr: string): number[] | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[+-]?\d+$/.test(p)) return undefined;
    const v = Number(p);
    if (v < 0 || v > 255) return undefined;
    out.push(v);
  }
  return out;
}

function v6Segments(out: number[], at: number, segments: string[]): boolean {
  let i = at;
  for (const seg of segments) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(seg)) return false;
    const v = parseInt(seg, 16);
    out[i++] = (v >> 8) & 0xff;
    out[i++] = v & 0xff;
  }
  return true;
}

function v6Bytes(addr: string): number[] | undefined {
  const parts = addr.split('::');
  let head: string[] = [];
  let tail: string[] = [];
  if (parts.length === 1) {
    head = addr.split(':');
    if (head.length !== 8) return undefined;
  } else if (parts.length === 2) {
    if (parts[0] !== '') head = parts[0]!.split(':');
    if (parts[1] !== '') tail = parts[1]!.split(':');
    if (head.length + tail.length >= 8) return undefined;
  } else {
    return undefined;
  }
  const out = new Array<number>(16).fill(0);
  if (!v6Segments(out, 0, head)) return undefined;
  if (!v6Segments(out, 16 - tail.length * 2, tail)) return undefined;
  return out;
}

function addrBytes(addr: string): number[] | undefined {
  if (addr.includes(':')) return v6Bytes(addr);
  if (addr.includes('.')) return v4Bytes(addr);
  return undefined;
}

function mask(b: number[], bits: number): void {
  let start = Math.floor(bits / 8);
  let startMask = ~((1 << (8 - (bits % 8))) - 1) & 0xff;
  while (start < b.length) {
    b[start] = b[start]! & startMask;
    startMask = 0;
    start++;
  }
}

/** Address bytes and prefix length of 'addr' or 'addr/bits'; undefined when malformed. */
function parseIpExpr(expr: string): { addr: number[]; bits: number } | undefined {
  const slash = expr.indexOf('/');
  const addr = addrBytes(slash === -1 ? expr : expr.slice(0, slash));
  if (addr === undefined) return undefined;
  let bits = addr.length * 8;
  if (slash !== -1) {
    const b = expr.slice(slash + 1);
    if (!/^[+-]?\d+$/.test(b)) return undefined;
    bits = Number(b);
    if (bits < 0 || bits > addr.length * 8) return undefined;
  }
  return { addr, bits };
}

/** A client address as the ip scheme compares it: IPv4-mapped IPv6 ('::ffff:a.b.c.d') as IPv4. */
function clientAddr(id: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(id);
  return m ? m[1]! : id;
}

export const ipProvider: AuthProvider = {
  scheme: 'ip',
  isAuthenticated: false,
  isValid: (id) => parseIpExpr(id) !== undefined,
  matches(id, aclExpr) {
    const acl = parseIpExpr(aclExpr);
    const remote = addrBytes(clientAddr(id));
    if (acl === undefined || remote === undefined || remote.length !== acl.addr.length) return false;
    mask(acl.addr, acl.bits);
    mask(remote, acl.bits);
    return remote.every((v, i) => v === acl.addr[i]);
  },
};

// --- sasl ---

/**
 * ZooKeeper's SASLAuthenticationProvider: an id is a principal that KerberosName accepts
 * (anything without '@', or `name[/host]@REALM` with no further '/' or '@').
 */
export const saslProvider: AuthProvider = {
  scheme: 'sasl',
  isAuthenticated: true,
  isValid: (id) => !id.includes('@') || /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id),
  matches: (id, aclExpr) => id === 'super' || id === aclExpr,
};

// --- x509 ---

/** Attribute type keywords Java's X500Principal reads (RFC 1779, RFC 2253 and its own). */
const DN_KEYWORDS: ReadonlySet<string> = new Set([
  'CN', 'C', 'L', 'S', 'ST', 'O', 'OU', 'T', 'IP', 'STREET', 'DC', 'DNQUALIFIER', 'DNQ', 'SURNAME', 'GIVENNAME',
  'INITIALS', 'GENERATION', 'EMAIL', 'EMAILADDRESS', 'UID', 'SERIALNUMBER',
]);

/**
 * Whether `dn` is a distinguished name X500Principal(String) accepts: RDNs separated by ','
 * or ';', attribute-value pairs within one by '+', each `type=value` with a keyword or an
 * OID type and a plain (with \\-escapes), quoted or #hex value. The empty name is valid.
 */
export function isDistinguishedName(dn: string): boolean {
  let i = 0;
  const n = dn.length;
  const skipSpaces = (): void => {
    while (i < n && dn[i] === ' ') i++;
  };
  skipSpaces();
  if (i === n) return true;
  for (;;) {
    skipSpaces();
    const eq = dn.indexOf('=', i);
    if (eq === -1) return false;
    const type = dn.slice(i, eq).trim();
    const oid = /^(OID\.)?\d+(\.\d+)+$/i.test(type);
    if (!oid && !DN_KEYWORDS.has(type.toUpperCase())) return false;
    i = eq + 1;
    skipSpaces();
    if (dn[i] === '"') {
      i++;
      while (i < n && dn[i] !== '"') i += dn[i] === '\\' ? 2 : 1;
      if (i >= n) return false;
      i++;
      skipSpaces();
    } else if (dn[i] === '#') {
      const m = /^#([0-9a-fA-F]{2})+/.exec(dn.slice(i));
      if (m === null) return false;
      i += m[0].length;
      skipSpaces();
    } else {
      while (i < n && !',;+'.includes(dn[i]!)) {
        if (dn[i] === '\\') {
          if (i + 1 >= n) return false;
          i++;
        } else if (dn[i] === '"' || dn[i] === '=') {
          return false;
        }
        i++;
      }
    }
    if (i === n) return true;
    if (!',;+'.includes(dn[i]!)) return false;
    i++;
  }
}

/**
 * ZooKeeper's X509AuthenticationProvider: a client's id is its certificate's subject DN as
 * Java's X500Principal.getName() writes it (RFC 2253); zookeeper.X509AuthenticationProvider.superUser
 * names a DN that matches every x509 entry.
 */
export function x509Provider(superUser?: string): AuthProvider {
  return {
    scheme: 'x509',
    isAuthenticated: true,
    isValid: isDistinguishedName,
    matches: (id, aclExpr) => id === aclExpr || (superUser !== undefined && id === superUser),
  };
}

/** The schemes ACLs may name on one server (ZooKeeper's ProviderRegistry). */
export class ProviderRegistry {
  private readonly byScheme: ReadonlyMap<string, AuthProvider>;

  constructor(providers: readonly AuthProvider[]) {
    this.byScheme = new Map(providers.map((p) => [p.scheme, p]));
  }

  get(scheme: string): AuthProvider | undefined {
    return this.byScheme.get(scheme);
  }

  has(scheme: string): boolean {
    return this.byScheme.has(scheme);
  }

  get schemes(): string[] {
    return [...this.byScheme.keys()];
  }
}

/** What every server has (ZooKeeper's ProviderRegistry defaults): digest and ip. */
export const DEFAULT_PROVIDERS = new ProviderRegistry([digestProvider, ipProvider]);

function isWorldAnyone(id: { scheme: string; id: string }): boolean {
  return id.scheme === 'world' && id.id === 'anyone';
}

/** Whether the connection is a super user: a 'super' id, or the configured super digest. */
export function isSuper(authInfo: readonly AuthId[], superDigest?: string): boolean {
  for (const a of authInfo) {
    if (a.scheme === 'super') return true;
    if (superDigest !== undefined && a.scheme === 'digest' && a.id === superDigest) return true;
  }
  return false;
}

/**
 * Throws KeeperException(NOAUTH) unless authInfo grants `perm` on a node with `acl`.
 * As in ZooKeeper, an empty ACL allows everything and super users bypass every check.
 * `superDigest` is 'super:base64sha1' (zookeeper.DigestAuthenticationProvider.superDigest).
 */
export function checkACL(
  acl: readonly ACL[],
  perm: number,
  authInfo: readonly AuthId[],
  superDigest?: string,
  path?: string,
  providers: ProviderRegistry = DEFAULT_PROVIDERS,
): void {
  if (acl.length === 0) return;
  if (isSuper(authInfo, superDigest)) return;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (isWorldAnyone(a.id)) return;
    const provider = providers.get(a.id.scheme);
    if (provider === undefined) continue;
    for (const auth of authInfo) {
      if (auth.scheme === a.id.scheme && provider.matches(auth.id, a.id.id)) return;
    }
  }
  throw new KeeperException(Code.NOAUTH, path);
}

function sameACL(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/**
 * The ACL a create/setACL request really sets: duplicates removed, 'auth' entries expanded
 * to every authenticated id of the connection, every other entry validated by its scheme.
 * Throws KeeperException(INVALIDACL) for an empty list, an unknown scheme, a malformed id or
 * an 'auth' entry from a connection that has authenticated as nobody.
 */
export function fixupACL(path: string, authInfo: readonly AuthId[], acl: readonly ACL[], providers: ProviderRegistry = DEFAULT_PROVIDERS): ACL[] {
  const unique: ACL[] = [];
  for (const a of acl) {
    if (!unique.some((u) => sameACL(u, a))) unique.push(a);
  }
  if (unique.length === 0) throw new KeeperException(Code.INVALIDACL, path);
  const out: ACL[] = [];
  for (const a of unique) {
    if (isWorldAnyone(a.id)) {
      out.push(a);
    } else if (a.id.scheme === 'auth') {
      let expanded = false;
      for (const cid of authInfo) {
        if (providers.get(cid.scheme)?.isAuthenticated === true) {
          out.push({ perms: a.perms, id: { scheme: cid.scheme, id: cid.id } });
          expanded = true;
        }
      }
      if (!expanded) throw new KeeperException(Code.INVALIDACL, path);
    } else {
      const provider = providers.get(a.id.scheme);
      if (provider === undefined || !provider.isValid(a.id.id)) throw new KeeperException(Code.INVALIDACL, path);
      out.push(a);
    }
  }
  return out;
}

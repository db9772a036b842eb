import { describe, expect, it } from 'vitest';
import { Code, Perms, type ACL } from '../../../src/jute/index.js';
import {
  checkACL,
  DEFAULT_PROVIDERS,
  digestOf,
  digestProvider,
  fixupACL,
  ipProvider,
  isDistinguishedName,
  ProviderRegistry,
  saslProvider,
  x509Provider,
  type AuthId,
} from '../../../src/tree/index.js';

const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });

function code(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code: number }).code;
  }
}

const allowed = (a: ACL[], perm: number, auth: AuthId[], superDigest?: string): boolean =>
  code(() => checkACL(a, perm, auth, superDigest)) === undefined;

describe('digestOf', () => {
  it('matches the digest ZooKeeper computes (DigestAuthenticationProvider.generateDigest)', () => {
    expect(digestOf('super:test')).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });
  it('keeps everything after the first colon in the password', () => {
    expect(digestOf('u:p:w').startsWith('u:')).toBe(true);
    expect(digestOf('u:p:w')).not.toBe(digestOf('u:p'));
  });
});

describe('checkACL', () => {
  const bob = { scheme: 'digest', id: digestOf('bob:secret') };
  const local = { scheme: 'ip', id: '127.0.0.1' };

  it('world:anyone grants the listed permissions to everybody, and only those', () => {
    const a = [acl(Perms.READ, 'world', 'anyone')];
    expect(allowed(a, Perms.READ, [])).toBe(true);
    expect(allowed(a, Perms.WRITE, [local])).toBe(false);
  });

  it('throws NOAUTH when nothing matches', () => {
    expect(code(() => checkACL([acl(Perms.ALL, 'digest', digestOf('alice:x'))], Perms.READ, [bob]))).toBe(Code.NOAUTH);
  });

  it('an empty ACL allows everything (ZooKeeper semantics)', () => {
    expect(allowed([], Perms.ADMIN, [])).toBe(true);
  });

  it('digest matches the exact user:base64sha1 id', () => {
    const a = [acl(Perms.READ | Perms.WRITE, 'digest', digestOf('bob:secret'))];
    expect(allowed(a, Perms.WRITE, [local, bob])).toBe(true);
    expect(allowed(a, Perms.WRITE, [{ scheme: 'digest', id: digestOf('bob:wrong') }])).toBe(false);
    expect(allowed(a, Perms.DELETE, [bob])).toBe(false);
  });

  it('ip matches an address, an IPv4 CIDR and an IPv6 prefix', () => {
    expect(allowed([acl(Perms.READ, 'ip', '10.1.2.3')], Perms.READ, [{ scheme: 'ip', id: '10.1.2.3' }])).toBe(true);
    expect(allowed([acl(Perms.READ, 'ip', '10.1.2.3')], Perms.READ, [{ scheme: 'ip', id: '10.1.2.4' }])).toBe(false);
    const cidr = [acl(Perms.READ, 'ip', '10.1.0.0/16')];
    expect(allowed(cidr, Perms.READ, [{ scheme: 'ip', id: '10.1.255.7' }])).toBe(true);
    expect(allowed(cidr, Perms.READ, [{ scheme: 'ip', id: '10.2.0.1' }])).toBe(false);
    expect(allowed([acl(Perms.READ, 'ip', '10.1.2.3/0')], Perms.READ, [{ scheme: 'ip', id: '192.168.0.1' }])).toBe(true);
    const odd = [acl(Perms.READ, 'ip', '192.168.1.129/25')];
    expect(allowed(odd, Perms.READ, [{ scheme: 'ip', id: '192.168.1.200' }])).toBe(true);
    expect(allowed(odd, Perms.READ, [{ scheme: 'ip', id: '192.168.1.100' }])).toBe(false);
    const v6 = [acl(Perms.READ, 'ip', '2001:db8::/32')];
    expect(allowed(v6, Perms.READ, [{ scheme: 'ip', id: '2001:db8:1:2::3' }])).toBe(true);
    expect(allowed(v6, Perms.READ, [{ scheme: 'ip', id: '2001:db9::1' }])).toBe(false);
    expect(allowed([acl(Perms.READ, 'ip', '::1')], Perms.READ, [{ scheme: 'ip', id: '0:0:0:0:0:0:0:1' }])).toBe(true);
  });

  it('ip never matches across address families, and reads IPv4-mapped IPv6 clients as IPv4', () => {
    expect(allowed([acl(Perms.READ, 'ip', '127.0.0.1')], Perms.READ, [{ scheme: 'ip', id: '::1' }])).toBe(false);
    expect(allowed([acl(Perms.READ, 'ip', '127.0.0.0/8')], Perms.READ, [{ scheme: 'ip', id: '::ffff:127.0.0.1' }])).toBe(
      true,
    );
  });

  it('an ip ACL that does not parse matches nobody', () => {
    for (const bad of ['10.1.2', '10.1.2.300', '10.1.2.3/33', 'host', '1::2::3', '12345::1'])
      expect(allowed([acl(Perms.READ, 'ip', bad)], Perms.READ, [{ scheme: 'ip', id: '10.1.2.3' }])).toBe(false);
  });

  it('super users bypass every check: a super id, or the configured super digest', () => {
    const closed = [acl(Perms.READ, 'digest', digestOf('alice:x'))];
    expect(allowed(closed, Perms.ADMIN, [{ scheme: 'super', id: '' }])).toBe(true);
    const superDigest = digestOf('super:test');
    expect(allowed(closed, Perms.ADMIN, [{ scheme: 'digest', id: superDigest }], superDigest)).toBe(true);
    expect(allowed(closed, Perms.ADMIN, [{ scheme: 'digest', id: superDigest }])).toBe(false);
  });

  it('ids of a scheme never match an ACL entry of another scheme', () => {
    const a = [acl(Perms.READ, 'digest', '127.0.0.1')];
    expect(allowed(a, Perms.READ, [{ scheme: 'ip', id: '127.0.0.1' }])).toBe(false);
  });
});

describe('fixupACL', () => {
  const bob = { scheme: 'digest', id: digestOf('bob:secret') };
  const local = { scheme: 'ip', id: '127.0.0.1' };

  it('keeps valid entries and drops duplicates', () => {
    const a = [acl(Perms.ALL, 'world', 'anyone'), acl(Perms.ALL, 'world', 'anyone'), acl(Perms.READ, 'ip', '10.0.0.0/8')];
    expect(fixupACL('/n', [], a)).toEqual([acl(Perms.ALL, 'world', 'anyone'), acl(Perms.READ, 'ip', '10.0.0.0/8')]);
  });

  it("expands 'auth' to every authenticated id of the connection (digest, not ip)", () => {
    const two = { scheme: 'digest', id: digestOf('carol:pw') };
    expect(fixupACL('/n', [local, bob, two], [acl(Perms.ALL, 'auth', '')])).toEqual([
      { perms: Perms.ALL, id: bob },
      { perms: Perms.ALL, id: two },
    ]);
  });

  it.each<[string, ACL[], AuthId[]]>([
    ['an empty list', [], []],
    ["'auth' from a connection that authenticated as nobody", [acl(Perms.ALL, 'auth', '')], [local]],
    ["'auth' with only a super id", [acl(Perms.ALL, 'auth', '')], [{ scheme: 'super', id: '' }]],
    ['world with an id other than anyone', [acl(Perms.ALL, 'world', 'everyone')], []],
    ['an unknown scheme', [acl(Perms.ALL, 'kerberos', 'bob')], []],
    ['a digest id without a hash', [acl(Perms.ALL, 'digest', 'bob')], []],
    ['a digest id with a trailing colon', [acl(Perms.ALL, 'digest', 'bob:')], []],
    ['a digest id with two colons', [acl(Perms.ALL, 'digest', 'bob:a:b')], []],
    ['a malformed ip', [acl(Perms.ALL, 'ip', '300.1.1.1')], []],
    ['an ip prefix too long', [acl(Perms.ALL, 'ip', '10.0.0.0/40')], []],
  ])('rejects %s with INVALIDACL', (_what, a, auth) => {
    expect(code(() => fixupACL('/n', auth, a))).toBe(Code.INVALIDACL);
  });
});

describe('sasl and x509 schemes (registered by authProvider.N or TLS)', () => {
  const withBoth = new ProviderRegistry([digestProvider, ipProvider, saslProvider, x509Provider('CN=root,O=zablab')]);
  const bob = { scheme: 'sasl', id: 'bob' };
  const client = { scheme: 'x509', id: 'CN=kazoo client' };
  const check = (a: ACL[], perm: number, auth: AuthId[], providers: ProviderRegistry): boolean =>
    code(() => checkACL(a, perm, auth, undefined, '/n', providers)) === undefined;

  it('an ACL naming an unregistered scheme matches nobody, and cannot be set (INVALIDACL), as in ZooKeeper', () => {
    expect(check([acl(Perms.READ, 'sasl', 'bob')], Perms.READ, [bob], DEFAULT_PROVIDERS)).toBe(false);
    expect(code(() => fixupACL('/n', [bob], [acl(Perms.ALL, 'sasl', 'bob')]))).toBe(Code.INVALIDACL);
    expect(code(() => fixupACL('/n', [client], [acl(Perms.ALL, 'x509', 'CN=kazoo client')]))).toBe(Code.INVALIDACL);
  });

  it('sasl matches the exact principal, and the id "super" matches every sasl entry', () => {
    const a = [acl(Perms.READ, 'sasl', 'bob')];
    expect(check(a, Perms.READ, [bob], withBoth)).toBe(true);
    expect(check(a, Perms.READ, [{ scheme: 'sasl', id: 'alice' }], withBoth)).toBe(false);
    expect(check(a, Perms.READ, [{ scheme: 'sasl', id: 'super' }], withBoth)).toBe(true);
    expect(check(a, Perms.READ, [{ scheme: 'digest', id: 'bob' }], withBoth)).toBe(false);
  });

  it('x509 matches the exact subject DN, and the configured super user DN matches every x509 entry', () => {
    const a = [acl(Perms.WRITE, 'x509', 'CN=kazoo client')];
    expect(check(a, Perms.WRITE, [client], withBoth)).toBe(true);
    expect(check(a, Perms.WRITE, [{ scheme: 'x509', id: 'CN=other' }], withBoth)).toBe(false);
    expect(check(a, Perms.WRITE, [{ scheme: 'x509', id: 'CN=root,O=zablab' }], withBoth)).toBe(true);
    expect(check(a, Perms.WRITE, [{ scheme: 'x509', id: 'CN=root,O=zablab' }], new ProviderRegistry([x509Provider()]))).toBe(false);
  });

  it("'auth' expands to sasl and x509 ids (both identify a user), not to ip", () => {
    expect(fixupACL('/n', [{ scheme: 'ip', id: '127.0.0.1' }, bob, client], [acl(Perms.ALL, 'auth', '')], withBoth)).toEqual([
      { perms: Perms.ALL, id: bob },
      { perms: Perms.ALL, id: client },
    ]);
  });

  it.each([
    ['bob', true],
    ['zookeeper/host.example.com@EXAMPLE.COM', true],
    ['bob@EXAMPLE.COM', true],
    ['a/b/c', true],
    ['bob@a@b', false],
    ['a/b/c@R', false],
  ])('sasl id %s is valid: %s (KerberosName)', (id, valid) => {
    expect(saslProvider.isValid(id)).toBe(valid);
  });

  it.each([
    ['CN=kazoo client', true],
    ['CN=a\\,b,O=Org,C=US', true],
    ['cn=x;ou=y+uid=z', true],
    ['CN="quoted, value"', true],
    ['1.2.840.113549.1.9.1=#160378797a', true],
    ['OID.2.5.4.3=x', true],
    ['', true],
    ['kazoo client', false],
    ['FOO=bar', false],
    ['CN=a=b', false],
    ['CN="unterminated', false],
    ['CN=x,', false],
  ])('x509 id %j is a distinguished name: %s', (dn, valid) => {
    expect(isDistinguishedName(dn)).toBe(valid);
  });
});

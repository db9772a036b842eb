/**
 * A client certificate's subject as X509AuthenticationProvider names it. The expected strings
 * are what Java 17's X500Principal.getName() printed for the same DER names (the JDK that runs
 * Apache ZooKeeper here); for string types other than UTF8String with non-ASCII text Java 17
 * decodes everything as UTF-8 and newer JDKs decode by type, as zablab does.
 */
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../../src/harness/tls/index.js';
import { nameToRfc2253, subjectDn } from '../../../src/server/auth/x509-subject.js';
import crypto from 'node:crypto';

const tlv = (tag: number, c: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), c.length < 128 ? Buffer.from([c.length]) : Buffer.from([0x81, c.length]), c]);
function oid(s: string): Buffer {
  const p = s.split('.').map(Number);
  const out = [p[0]! * 40 + p[1]!];
  for (const v of p.slice(2)) {
    const b: number[] = [];
    let x = v;
    do {
      b.unshift(x & 0x7f);
      x = Math.floor(x / 128);
    } while (x > 0);
    for (let i = 0; i < b.length - 1; i++) b[i]! |= 0x80;
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}
const UTF8 = 0x0c;
const PRINTABLE = 0x13;
const T61 = 0x14;
const IA5 = 0x16;
const BMP = 0x1e;
const value = (tag: number, v: string): Buffer => tlv(tag, tag === BMP ? Buffer.from(v, 'utf16le').swap16() : Buffer.from(v, tag === UTF8 ? 'utf8' : 'latin1'));
const ava = (type: string, tag: number, v: string): Buffer => tlv(0x30, Buffer.concat([oid(type), value(tag, v)]));
const rdn = (...avas: Buffer[]): Buffer => tlv(0x31, Buffer.concat(avas));
const name = (...rdns: Buffer[]): Buffer => tlv(0x30, Buffer.concat(rdns));
const CN = '2.5.4.3';
const C = '2.5.4.6';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const DC = '0.9.2342.19200300.100.1.25';
const UID = '0.9.2342.19200300.100.1.1';

describe('nameToRfc2253', () => {
  it.each([
    ['one CN', name(rdn(ava(CN, UTF8, 'zablab client'))), 'CN=zablab client'],
    ['RDNs last to first, with , and " escaped', name(rdn(ava(C, PRINTABLE, 'US')), rdn(ava(O, UTF8, 'Org, "Inc"')), rdn(ava(CN, UTF8, 'app'))), 'CN=app,O=Org\\, \\"Inc\\",C=US'],
    [
      'a multi-valued RDN, DC and UID keywords, edge spaces and #',
      name(rdn(ava(DC, IA5, 'org')), rdn(ava(DC, IA5, 'example')), rdn(ava(OU, UTF8, 'a+b'), ava(UID, UTF8, 'u;1')), rdn(ava(CN, UTF8, ' lead#trail '))),
      'CN=\\ lead\\#trail\\ ,OU=a\\+b+UID=u\\;1,DC=example,DC=org',
    ],
    [
      'types without an RFC 2253 keyword as OID=#hex, and < > = \\ escaped',
      name(rdn(ava(CN, UTF8, '#x<y>=z\\')), rdn(ava('1.2.840.113549.1.9.1', IA5, 'x@y.z')), rdn(ava('2.5.4.5', PRINTABLE, '123'))),
      '2.5.4.5=#1303313233,1.2.840.113549.1.9.1=#16057840792e7a,CN=\\#x\\<y\\>\\=z\\\\',
    ],
    [
      'ST, L, STREET keywords and UTF-8 text as it is',
      name(rdn(ava('2.5.4.8', PRINTABLE, 'Ile-de-France')), rdn(ava('2.5.4.7', T61, 'Zurich')), rdn(ava('2.5.4.9', UTF8, '1 Main St')), rdn(ava(CN, UTF8, 'ünï €'))),
      'CN=ünï €,STREET=1 Main St,L=Zurich,ST=Ile-de-France',
    ],
    ['the empty name', name(), ''],
    ['a BMPString, decoded as UTF-16BE', name(rdn(ava(CN, BMP, 'Île'))), 'CN=Île'],
  ])('%s', (_what, der, expected) => {
    expect(nameToRfc2253(der)).toBe(expected);
  });

  it('refuses truncated DER with an error, never a crash', () => {
    const der = name(rdn(ava(CN, UTF8, 'x')));
    expect(() => nameToRfc2253(der.subarray(0, der.length - 2))).toThrow(/DER/);
    expect(() => nameToRfc2253(Buffer.from([0x30]))).toThrow(/DER/);
  });
});

describe('subjectDn', () => {
  it('reads the subject of a certificate made by the harness CA', async () => {
    const ca = await createCertificateAuthority();
    const client = await ca.issueClient({ commonName: 'app, tenant 1' });
    const der = new crypto.X509Certificate(client.certPem).raw;
    expect(subjectDn(der)).toBe('CN=app\\, tenant 1');
  });
});

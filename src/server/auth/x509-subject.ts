/**
 * A client certificate's subject as ZooKeeper's X509AuthenticationProvider names it: Java's
 * X500Principal.getName(), the RFC 2253 string. RDNs last-to-first joined by ',', the values
 * of a multi-valued RDN joined by '+', RFC 2253 keywords (CN, C, L, ST, O, OU, STREET, DC, UID)
 * or else the dotted OID with the value as '#' and the hex of its DER encoding, and the
 * escaping of sun.security.x509.AVA. The id is what ACLs name: `x509:CN=app,O=example`.
 *
 * Only the subject Name is read, with a reader for exactly the DER it needs (tag, length,
 * SEQUENCE/SET/OID/strings); the certificate itself was verified by the TLS handshake.
 */

/** OIDs Java writes as keywords in RFC 2253 form. */
const RFC2253_KEYWORDS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

const TAG = { INTEGER: 0x02, OID: 0x06, UTF8: 0x0c, PRINTABLE: 0x13, T61: 0x14, IA5: 0x16, GENERAL: 0x1b, BMP: 0x1e, SEQUENCE: 0x30, SET: 0x31, EXPLICIT0: 0xa0 } as const;
/** Characters AVA.toRFC2253String escapes with a backslash. */
const ESCAPED = ',=+<>#;"\\';

export class CertificateFormatError extends Error {
  readonly code = 'ZABLAB_X509_FORMAT';
}

interface Tlv {
  tag: number;
  /** The whole element (tag, length and contents). */
  der: Buffer;
  contents: Buffer;
  end: number;
}

function readTlv(buf: Buffer, at: number): Tlv {
  if (at + 2 > buf.length) throw new CertificateFormatError('truncated DER');
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw new CertificateFormatError('multi-byte DER tags are not expected here');
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) throw new CertificateFormatError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new CertificateFormatError('DER element runs past its end');
  return { tag, der: buf.subarray(at, end), contents: buf.subarray(start, end), end };
}

function children(parent: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < parent.length; ) {
    const t = readTlv(parent, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t === undefined || t.tag !== tag) throw new CertificateFormatError(`expected ${what}`);
  return t;
}

function oidText(contents: Buffer): string {
  if (contents.length === 0) throw new CertificateFormatError('empty OID');
  const first = contents[0]!;
  const arcs: number[] = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let v = 0;
  for (let i = 1; i < contents.length; i++) {
    v = v * 128 + (contents[i]! & 0x7f);
    if (!(contents[i]! & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

/** The value as Java decodes each DirectoryString type; undefined for types Java writes as #hex. */
function stringValue(t: Tlv): string | undefined {
  switch (t.tag) {
    case TAG.UTF8:
      return t.contents.toString('utf8');
    case TAG.PRINTABLE:
    case TAG.T61:
    case TAG.IA5:
    case TAG.GENERAL:
      return t.contents.toString('latin1');
    case TAG.BMP:
      return Buffer.from(t.contents).swap16().toString('utf16le');
    default:
      return undefined;
  }
}

/** sun.security.x509.AVA.toRFC2253String's escaping of a string value (other characters pass as they are). */
function escapeValue(value: string): string {
  let s = '';
  for (const c of value) {
    if (ESCAPED.includes(c)) s += `\\${c}`;
    else if (c === '\u0000') s += '\\00';
    else s += c;
  }
  const chars = [...s];
  let lead = 0;
  while (lead < chars.length && (chars[lead] === ' ' || chars[lead] === '\r')) lead++;
  let trail = chars.length - 1;
  while (trail >= 0 && (chars[trail] === ' ' || chars[trail] === '\r')) trail--;
  return chars.map((c, i) => (i < lead || i > trail ? `\\${c}` : c)).join('');
}

function avaText(ava: Tlv): string {
  const [typeTlv, valueTlv] = children(expectTag(ava, TAG.SEQUENCE, 'an AttributeTypeAndValue').contents);
  const oid = oidText(expectTag(typeTlv, TAG.OID, 'an attribute type').contents);
  if (valueTlv === undefined) throw new CertificateFormatError('an attribute without a value');
  const keyword = RFC2253_KEYWORDS[oid];
  const text = keyword === undefined ? undefined : stringValue(valueTlv);
  if (keyword === undefined || text === undefined) return `${keyword ?? oid}=#${valueTlv.der.toString('hex')}`;
  return `${keyword}=${escapeValue(text)}`;
}

/** RFC 2253 text of a DER Name (SEQUENCE OF RDN). */
export function nameToRfc2253(nameDer: Buffer): string {
  const rdns = children(readTlv(nameDer, 0).contents);
  return rdns
    .reverse()
    .map((rdn) => children(expectTag(rdn, TAG.SET, 'a RelativeDistinguishedName').contents).map(avaText).join('+'))
    .join(',');
}

/** The subject of a DER certificate as X500Principal.getName() writes it. */
export function subjectDn(certificateDer: Buffer): string {
  const cert = expectTag(readTlv(certificateDer, 0), TAG.SEQUENCE, 'a Certificate');
  const tbs = expectTag(children(cert.contents)[0], TAG.SEQUENCE, 'a TBSCertificate');
  const fields = children(tbs.contents);
  // version [0] EXPLICIT is optional: serialNumber, signature, issuer, validity, subject follow.
  const at = fields[0]?.tag === TAG.EXPLICIT0 ? 1 : 0;
  expectTag(fields[at], TAG.INTEGER, 'a serial number');
  const subject = expectTag(fields[at + 4], TAG.SEQUENCE, 'a subject Name');
  return nameToRfc2253(subject.der);
}

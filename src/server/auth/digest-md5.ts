/**
 * The server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper clients speak it: the JDK's
 * DigestMD5Server with ZooKeeper's settings (protocol `zookeeper`, server name and realm
 * `zk-sasl-md5`, qop `auth` only, charset utf-8). Two steps:
 *
 *   1. any client token (usually empty)  → digest-challenge (realm, nonce, charset, algorithm)
 *   2. the client's digest-response      → rspauth, and the client is authenticated
 *
 * Everything after that, and every malformed or wrong response, is a SaslFailure whose
 * message is safe to log: it never holds a password or a response hash.
 */
import crypto from 'node:crypto';
import type { SaslUsers } from './jaas.js';

/** ZooKeeperSaslServer: Sasl.createSaslServer("DIGEST-MD5", "zookeeper", "zk-sasl-md5", ...). */
export const SASL_PROTOCOL = 'zookeeper';
export const SASL_SERVER_NAME = 'zk-sasl-md5';
/** DigestMD5Base.MAX_RESPONSE_LENGTH. */
export const MAX_RESPONSE_BYTES = 4096;
/** DigestMD5Base.RAW_NONCE_SIZE: 30 random bytes, 40 base64 characters. */
const NONCE_BYTES = 30;
/** The response carries nc=00000001: one response per challenge. */
const NONCE_COUNT = 1;
const DIRECTIVES = new Set(['realm', 'username', 'nonce', 'cnonce', 'nc', 'qop', 'digest-uri', 'response', 'maxbuf', 'charset', 'cipher', 'authzid', 'auth-param']);

export class SaslFailure extends Error {
  readonly code = 'ZABLAB_SASL_FAILED';
  constructor(message: string) {
    super(`DIGEST-MD5: ${message}`);
    this.name = 'SaslFailure';
  }
}

export type SaslStep =
  | { complete: false; token: Buffer }
  /** `authorizationId` is the sasl id the connection now has. */
  | { complete: true; token: Buffer; authorizationId: string };

export class DigestMd5Server {
  private step: 'challenge' | 'response' | 'done' = 'challenge';
  private nonce = '';

  constructor(
    private readonly users: SaslUsers,
    private readonly randomBytes: (n: number) => Buffer = crypto.randomBytes,
  ) {}

  evaluateResponse(response: Buffer): SaslStep {
    if (response.length > MAX_RESPONSE_BYTES) throw new SaslFailure(`the response is ${response.length} bytes, more than ${MAX_RESPONSE_BYTES}`);
    switch (this.step) {
      case 'challenge':
        // RFC 2831 2.2: a server that does not support subsequent authentication ignores an initial response.
        this.step = 'response';
        this.nonce = this.randomBytes(NONCE_BYTES).toString('base64');
        return { complete: false, token: Buffer.from(`realm="${SASL_SERVER_NAME}",nonce="${this.nonce}",charset=utf-8,algorithm=md5-sess`, 'utf8') };
      case 'response': {
        this.step = 'done';
        const { authorizationId, rspauth } = this.verify(parseDirectives(response));
        return { complete: true, token: Buffer.from(`rspauth=${rspauth}`, 'utf8'), authorizationId };
      }
      case 'done':
        throw new SaslFailure('the exchange is over; a connection authenticates once');
    }
  }

  private verify(d: Map<string, string>): { authorizationId: string; rspauth: string } {
    const charset = d.get('charset');
    if (charset !== undefined && charset !== 'utf-8') throw new SaslFailure(`charset must be utf-8, got "${charset}"`);
    const maxbuf = d.get('maxbuf');
    if (maxbuf !== undefined && !/^\d{1,10}$/.test(maxbuf)) throw new SaslFailure('maxbuf is not a number');
    const username = required(d, 'username');
    const realm = d.get('realm') ?? '';
    if (realm !== SASL_SERVER_NAME) throw new SaslFailure(`realm must be ${SASL_SERVER_NAME}, got "${realm}"`);
    if (required(d, 'nonce') !== this.nonce) throw new SaslFailure('the nonce is not the one this server sent');
    const cnonce = required(d, 'cnonce');
    const nc = d.get('nc');
    if (nc !== undefined && (!/^[0-9a-fA-F]{1,8}$/.test(nc) || parseInt(nc, 16) !== NONCE_COUNT)) throw new SaslFailure(`nc must be 00000001, got "${nc}"`);
    const qop = d.get('qop') ?? 'auth';
    if (qop !== 'auth') throw new SaslFailure(`qop ${qop} is not offered; this server offers auth only (ZooKeeper runs on TLS for integrity and privacy)`);
    const digestUri = d.get('digest-uri') ?? '';
    const expectedUri = `${SASL_PROTOCOL}/${SASL_SERVER_NAME}`;
    if (digestUri.toLowerCase() !== expectedUri) throw new SaslFailure(`digest-uri must be ${expectedUri}, got "${digestUri}"`);
    const response = required(d, 'response');
    const authzid = d.get('authzid');
    const password = this.users.get(username);
    if (password === undefined) throw new SaslFailure(`no user ${username}`);
    const a1 = ha1(username, realm, password, this.nonce, cnonce, authzid);
    const expected = responseValue(a1, this.nonce, cnonce, qop, `AUTHENTICATE:${digestUri}`);
    const given = Buffer.from(response, 'utf8');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      throw new SaslFailure(`the response for user ${username} is wrong (wrong password?)`);
    }
    // ZooKeeper's SaslServerCallbackHandler authorizes every authenticated user as itself: authzid is not honoured.
    return { authorizationId: username, rspauth: responseValue(a1, this.nonce, cnonce, qop, `:${digestUri}`).toString('latin1') };
  }
}

function required(d: Map<string, string>, key: string): string {
  const v = d.get(key);
  if (v === undefined) throw new SaslFailure(`the response has no ${key}`);
  return v;
}

const md5 = (data: Buffer | string): Buffer => crypto.createHash('md5').update(data).digest();
const hex = (data: Buffer | string): string => md5(data).toString('hex');

/** JDK's stringToByte_8859_1 with charset utf-8: ISO 8859-1 when every character fits, else UTF-8. */
function textBytes(s: string): Buffer {
  return /^[\u0000-\u00ff]*$/.test(s) ? Buffer.from(s, 'latin1') : Buffer.from(s, 'utf8');
}

/** The fields a digest-response hash depends on. */
export interface DigestInput {
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  qop: string;
  digestUri: string;
  authzid?: string;
}

/** RFC 2831's response-value (`AUTHENTICATE`: what the client sends) or rspauth (`''`: what the server answers). */
export function digestResponseValue(d: DigestInput, method: 'AUTHENTICATE' | ''): string {
  return responseValue(ha1(d.username, d.realm, d.password, d.nonce, d.cnonce, d.authzid), d.nonce, d.cnonce, d.qop, `${method}:${d.digestUri}`).toString('latin1');
}

/** H(A1) of RFC 2831 2.1.2.1: H({H(user:realm:passwd), ":", nonce, ":", cnonce[, ":", authzid]}). */
function ha1(user: string, realm: string, password: string, nonce: string, cnonce: string, authzid: string | undefined): string {
  const inner = md5(Buffer.concat([textBytes(user), Buffer.from(':'), textBytes(realm), Buffer.from(':'), textBytes(password)]));
  const rest = `:${nonce}:${cnonce}${authzid === undefined ? '' : `:${authzid}`}`;
  return hex(Buffer.concat([inner, Buffer.from(rest, 'utf8')]));
}

/** response-value of RFC 2831 2.1.2.1 (qop auth): HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))). */
function responseValue(ha1Hex: string, nonce: string, cnonce: string, qop: string, a2: string): Buffer {
  const nc = NONCE_COUNT.toString(16).padStart(8, '0');
  return Buffer.from(hex(`${ha1Hex}:${nonce}:${nc}:${cnonce}:${qop}:${hex(a2)}`), 'latin1');
}

/**
 * RFC 2831's `1#(directive)`: `key=token` or `key="quoted \" string"`, comma-separated, keys
 * case-insensitive, each at most once. Anything else is a SaslFailure.
 */
export function parseDirectives(token: Buffer): Map<string, string> {
  const text = token.toString('utf8');
  const out = new Map<string, string>();
  let i = 0;
  const skip = (): void => {
    while (i < text.length && /[ \t\r\n]/.test(text[i]!)) i++;
  };
  for (;;) {
    skip();
    if (i >= text.length) break;
    if (text[i] === ',') {
      i++;
      continue;
    }
    const eq = text.indexOf('=', i);
    if (eq === -1) throw new SaslFailure('the response is not a list of key=value directives');
    const key = text.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z0-9-]+$/.test(key)) throw new SaslFailure('the response has a directive without a valid name');
    i = eq + 1;
    skip();
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new SaslFailure(`the value of ${key} is not closed`);
        const c = text[i]!;
        if (c === '"') break;
        if (c === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++;
    } else {
      const end = text.indexOf(',', i);
      value = (end === -1 ? text.slice(i) : text.slice(i, end)).trim();
      i = end === -1 ? text.length : end;
    }
    skip();
    if (i < text.length && text[i] !== ',') throw new SaslFailure(`unexpected text after the value of ${key}`);
    if (!DIRECTIVES.has(key)) continue; // RFC 2831: unknown directives are ignored
    if (out.has(key)) throw new SaslFailure(`the response has more than one ${key}`);
    out.set(key, value);
  }
  return out;
}

/**
 * The DIGEST-MD5 server (RFC 2831) against the RFC's own example, against an exchange
 * captured between kazoo (python3-pure-sasl) and Apache ZooKeeper 3.8 (the JDK's server),
 * and against responses that must fail: each failure is a SaslFailure whose message names
 * the problem and never carries the password or a response hash.
 */
import { describe, expect, it } from 'vitest';
import { digestResponseValue, DigestMd5Server, MAX_RESPONSE_BYTES, parseDirectives, SaslFailure } from '../../../src/server/auth/digest-md5.js';

/** What Apache ZooKeeper 3.8.0 sent kazoo, and kazoo answered, for user bob / bobsecret. */
const ZK = {
  nonce: 'OVd3LT4da111omEaA64mQzFwwYLyjdhFBnD6OmPS',
  challenge: 'realm="zk-sasl-md5",nonce="OVd3LT4da111omEaA64mQzFwwYLyjdhFBnD6OmPS",charset=utf-8,algorithm=md5-sess',
  response:
    'qop=auth,realm="zk-sasl-md5",username="bob",nonce="OVd3LT4da111omEaA64mQzFwwYLyjdhFBnD6OmPS",cnonce="9144732257505378",nc=00000001,digest-uri="zookeeper/zk-sasl-md5",response=e283d3568d95b1deb4cc16d1cae5721f',
  rspauth: 'rspauth=1278610534dfa02f5eb0e1c1b78ceaad',
};
const USERS = new Map([
  ['bob', 'bobsecret'],
  ['émile', 'mot de passe'],
]);

/** A server whose nonce is the one ZooKeeper sent. */
function server(): DigestMd5Server {
  return new DigestMd5Server(USERS, () => Buffer.from(ZK.nonce, 'base64'));
}

function fails(s: DigestMd5Server, response: string): SaslFailure {
  s.evaluateResponse(Buffer.alloc(0));
  try {
    s.evaluateResponse(Buffer.from(response, 'utf8'));
  } catch (err) {
    expect(err).toBeInstanceOf(SaslFailure);
    const m = (err as Error).message;
    expect(m).not.toContain('bobsecret');
    expect(m).not.toContain('e283d3568d95b1deb4cc16d1cae5721f');
    return err as SaslFailure;
  }
  throw new Error('expected a SaslFailure');
}

/** A well-formed response for the server's nonce, as pure-sasl builds it. */
function responseFor(o: { username: string; password: string; cnonce?: string; extra?: string; uri?: string; authzid?: string }): string {
  const input = { username: o.username, realm: 'zk-sasl-md5', password: o.password, nonce: ZK.nonce, cnonce: o.cnonce ?? 'c1', qop: 'auth', digestUri: o.uri ?? 'zookeeper/zk-sasl-md5', ...(o.authzid === undefined ? {} : { authzid: o.authzid }) };
  const az = o.authzid === undefined ? '' : `,authzid="${o.authzid}"`;
  return `qop=auth,realm="zk-sasl-md5",username="${o.username}",nonce="${ZK.nonce}",cnonce="${input.cnonce}",nc=00000001,digest-uri="${input.digestUri}",response=${digestResponseValue(input, 'AUTHENTICATE')}${az}${o.extra ?? ''}`;
}

describe('DIGEST-MD5 hashes', () => {
  it('match RFC 2831 section 4 (chris / secret at elwood.innosoft.com)', () => {
    const d = { username: 'chris', realm: 'elwood.innosoft.com', password: 'secret', nonce: 'OA6MG9tEQGm2hh', cnonce: 'OA6MHXh6VqTrRk', qop: 'auth', digestUri: 'imap/elwood.innosoft.com' };
    expect(digestResponseValue(d, 'AUTHENTICATE')).toBe('d388dad90d4bbd760a152321f2143af7');
    expect(digestResponseValue(d, '')).toBe('ea40f60335c427b5527b84dbabcdfffd');
  });
});

describe('DigestMd5Server', () => {
  it("sends the JDK's challenge, accepts kazoo's response to Apache ZooKeeper and answers the same rspauth", () => {
    const s = server();
    const first = s.evaluateResponse(Buffer.alloc(0));
    expect(first).toEqual({ complete: false, token: Buffer.from(ZK.challenge) });
    const second = s.evaluateResponse(Buffer.from(ZK.response));
    expect(second).toEqual({ complete: true, token: Buffer.from(ZK.rspauth), authorizationId: 'bob' });
  });

  it('ignores an initial response (RFC 2831 2.2) and makes a fresh nonce for each exchange', () => {
    const a = new DigestMd5Server(USERS).evaluateResponse(Buffer.from('junk'));
    const b = new DigestMd5Server(USERS).evaluateResponse(Buffer.alloc(0));
    const nonce = (t: Buffer): string => /nonce="([^"]+)"/.exec(t.toString())![1]!;
    expect(nonce(a.token)).toHaveLength(40);
    expect(nonce(a.token)).not.toBe(nonce(b.token));
  });

  it('takes charset=utf-8, a maxbuf, unknown directives, any case of digest-uri, and non-ASCII names and passwords', () => {
    const s = server();
    s.evaluateResponse(Buffer.alloc(0));
    const r = responseFor({ username: 'émile', password: 'mot de passe', uri: 'ZooKeeper/ZK-SASL-MD5', extra: ',charset=utf-8,maxbuf=65536,future-thing="x"' });
    expect(s.evaluateResponse(Buffer.from(r, 'utf8'))).toMatchObject({ complete: true, authorizationId: 'émile' });
  });

  it('authorizes the user as itself whatever authzid it asks for (ZooKeeper\'s callback handler)', () => {
    const s = server();
    s.evaluateResponse(Buffer.alloc(0));
    expect(s.evaluateResponse(Buffer.from(responseFor({ username: 'bob', password: 'bobsecret', authzid: 'super' })))).toMatchObject({ authorizationId: 'bob' });
  });

  it.each([
    ['a wrong password', responseFor({ username: 'bob', password: 'guess' }), 'the response for user bob is wrong (wrong password?)'],
    ['an unknown user', responseFor({ username: 'mallory', password: 'x' }), 'no user mallory'],
    ['another nonce', ZK.response.replace(/nonce="[^"]+"/, 'nonce="abc"'), 'the nonce is not the one this server sent'],
    ['another realm', ZK.response.replace('realm="zk-sasl-md5"', 'realm="evil"'), 'realm must be zk-sasl-md5, got "evil"'],
    ['no realm', ZK.response.replace('realm="zk-sasl-md5",', ''), 'realm must be zk-sasl-md5, got ""'],
    ['another digest-uri', responseFor({ username: 'bob', password: 'bobsecret', uri: 'zookeeper/localhost' }), 'digest-uri must be zookeeper/zk-sasl-md5, got "zookeeper/localhost"'],
    ['qop auth-conf', ZK.response.replace('qop=auth', 'qop=auth-conf'), 'qop auth-conf is not offered; this server offers auth only (ZooKeeper runs on TLS for integrity and privacy)'],
    ['nc 2', ZK.response.replace('nc=00000001', 'nc=00000002'), 'nc must be 00000001, got "00000002"'],
    ['no response', ZK.response.replace(/,response=\w+/, ''), 'the response has no response'],
    ['no cnonce', ZK.response.replace(/cnonce="\d+",/, ''), 'the response has no cnonce'],
    ['two usernames', `${ZK.response},username="bob"`, 'the response has more than one username'],
    ['charset latin1', `${ZK.response},charset=iso-8859-1`, 'charset must be utf-8, got "iso-8859-1"'],
    ['an unclosed quote', 'username="bob', 'the value of username is not closed'],
    ['no directives', 'hello', 'the response is not a list of key=value directives'],
  ])('refuses %s', (_what, response, message) => {
    expect(fails(server(), response).message).toBe(`DIGEST-MD5: ${message}`);
  });

  it('refuses a response over 4096 bytes, and anything after the exchange', () => {
    const s = server();
    expect(() => s.evaluateResponse(Buffer.alloc(MAX_RESPONSE_BYTES + 1))).toThrow(SaslFailure);
    const done = server();
    done.evaluateResponse(Buffer.alloc(0));
    done.evaluateResponse(Buffer.from(ZK.response));
    expect(() => done.evaluateResponse(Buffer.from(ZK.response))).toThrow('a connection authenticates once');
  });

  it('a failed response ends the exchange: a second try on the same server fails too', () => {
    const s = server();
    s.evaluateResponse(Buffer.alloc(0));
    expect(() => s.evaluateResponse(Buffer.from(responseFor({ username: 'bob', password: 'guess' })))).toThrow(SaslFailure);
    expect(() => s.evaluateResponse(Buffer.from(ZK.response))).toThrow('a connection authenticates once');
  });
});

describe('parseDirectives', () => {
  it('reads tokens and quoted strings with escapes, keys in any case', () => {
    const d = parseDirectives(Buffer.from(' USERNAME="a\\"b" , nc=00000001,, realm = "r" '));
    expect([...d]).toEqual([
      ['username', 'a"b'],
      ['nc', '00000001'],
      ['realm', 'r'],
    ]);
  });
});

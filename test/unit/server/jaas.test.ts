/** DIGEST-MD5 users from a JAAS login configuration, as ZooKeeper's SaslServerCallbackHandler reads them. */
import { describe, expect, it } from 'vitest';
import { JaasSyntaxError, parseJaas, saslUsersOf } from '../../../src/server/auth/jaas.js';

const FILE = `
// ZooKeeper's example, with a Client section beside it
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bob\\"s secret";   /* quoted, with an escaped quote */
  com.example.Other optional user_carol=plain debug=true;
};
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="x";
};
`;

describe('JAAS users', () => {
  it('reads every user_<name> option of every module of the section', () => {
    const users = saslUsersOf(parseJaas(FILE), 'Server');
    expect(users).toEqual(
      new Map([
        ['super', 'adminsecret'],
        ['bob', 'bob"s secret'],
        ['carol', 'plain'],
      ]),
    );
  });

  it('says what is missing: the section, or any user in it', () => {
    expect(saslUsersOf(parseJaas(FILE), 'ZkServer')).toBe('has no section named ZkServer (it has Server, Client); add one, or name it with sasl.serverconfig');
    expect(saslUsersOf(parseJaas(FILE), 'Client')).toBe('has no user_<name>="<password>" option in section Client; DIGEST-MD5 needs at least one user');
    expect(saslUsersOf(parseJaas('Server { m required user_a@R="x"; };'), 'Server')).toMatch(/names with '@' are Kerberos principals/);
    expect(saslUsersOf(parseJaas('Server { m required user_a=""; };'), 'Server')).toBe('has an empty password for user a in section Server');
  });

  it.each([
    ['Server { m required user_a="x" };', 1],
    ['Server {\n m maybe user_a="x";\n};', 2],
    ['Server {\n m required user_a\n ="unclosed;\n};', 3],
    ['Server { m required user_a="x"; }', 1],
    ['Server { m required user_a="x"; };\nServer { m required; };', 2],
    ['/* open', 1],
  ])('reports a syntax error with its line, without echoing values: %j', (text, line) => {
    try {
      parseJaas(text);
      throw new Error('expected a JaasSyntaxError');
    } catch (err) {
      expect(err).toBeInstanceOf(JaasSyntaxError);
      expect((err as JaasSyntaxError).line).toBe(line);
      expect((err as Error).message).not.toMatch(/"x"|unclosed/);
    }
  });
});

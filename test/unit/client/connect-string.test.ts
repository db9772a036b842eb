import { describe, expect, test } from 'vitest';
import { ConnectStringError, parseConnectString } from '../../../src/client/index.js';
import { prependChroot, stripChroot } from '../../../src/client/connect-string.js';

describe('parseConnectString', () => {
  test('hosts, default port and chroot', () => {
    expect(parseConnectString('127.0.0.1:2181,zk2:2182,zk3/app/x')).toEqual({
      hosts: [
        { host: '127.0.0.1', port: 2181 },
        { host: 'zk2', port: 2182 },
        { host: 'zk3', port: 2181 },
      ],
      chroot: '/app/x',
    });
  });

  test('IPv6 in brackets, and a bare / chroot means none', () => {
    expect(parseConnectString('[::1]:2999/')).toEqual({ hosts: [{ host: '::1', port: 2999 }], chroot: '' });
  });

  test.each(['', '/app', 'h:0', 'h:70000', 'h:2181/app/', 'h:2181/a//b', 'a:b:c'])('refuses %j', (s) => {
    expect(() => parseConnectString(s)).toThrow(ConnectStringError);
  });

  test('chroot is applied to requests and removed from replies', () => {
    expect(prependChroot('/app', '/')).toBe('/app');
    expect(prependChroot('/app', '/x/y')).toBe('/app/x/y');
    expect(stripChroot('/app', '/app')).toBe('/');
    expect(stripChroot('/app', '/app/x')).toBe('/x');
    expect(stripChroot('/app', '/apple')).toBe('/apple');
    expect(prependChroot('', '/x')).toBe('/x');
  });
});

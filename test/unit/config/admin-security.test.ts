/**
 * zoo.cfg keys of the HTTP face's credentials and TLS: admin.tokenFile, admin.auth.enabled,
 * admin.allowedHosts (zablab's), admin.forceHttps, admin.needClientAuth and the
 * ssl.quorum.keyStore/trustStore keys ZooKeeper's AdminServer reads.
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configErrorAt, parseConfig, renderConfig, type ZabConfig } from '../../../src/server/config.js';
import { cfgOf, DATA, errOf } from './parse.js';

const BASE = [`dataDir=${DATA}`, 'clientPort=2181'];
const PEM = path.join(os.tmpdir(), 'admin.pem');
const CA = path.join(os.tmpdir(), 'ca.pem');

describe('the HTTP face\'s credentials in zoo.cfg', () => {
  it('defaults fail closed: credentials on, no token file, plain HTTP, only loopback and the admin address as Host', () => {
    const cfg = cfgOf(BASE);
    expect(cfg).toMatchObject({ adminAuthEnabled: true, adminAllowedHosts: [], adminForceHttps: false, adminNeedClientAuth: false, warnings: [] });
    expect(cfg.adminTokenFile).toBeUndefined();
    expect(cfg.sslQuorumKeyStore).toBeUndefined();
  });

  it('reads each key, with ZooKeeper\'s system-property spellings for its own', () => {
    const cfg = cfgOf([
      ...BASE,
      'admin.tokenFile=/etc/zablab/admin-token',
      'admin.allowedHosts=zk1.example.com, [::1],ZK2',
      'zookeeper.admin.forceHttps=true',
      'admin.needClientAuth=true',
      `ssl.quorum.keyStore.location=${PEM}`,
      'zookeeper.ssl.quorum.keyStore.passwordPath=/etc/zablab/pass',
      'ssl.quorum.keyStore.password=secret',
      `ssl.quorum.trustStore.location=${CA}`,
      'ssl.quorum.trustStore.type=pem',
    ]);
    expect(cfg).toMatchObject({
      adminTokenFile: '/etc/zablab/admin-token',
      adminAllowedHosts: ['zk1.example.com', '::1', 'zk2'],
      adminForceHttps: true,
      adminNeedClientAuth: true,
      sslQuorumKeyStore: { location: PEM, type: 'PEM', password: 'secret', passwordPath: '/etc/zablab/pass' },
      sslQuorumTrustStore: { location: CA, type: 'PEM' },
      warnings: [],
    });
    expect(cfg.lines.get('admin.tokenFile')).toBe(3);
    expect(cfg.lines.get('admin.forceHttps')).toBe(5);
    // Written back, the same settings come out.
    const keys = ['adminTokenFile', 'adminAuthEnabled', 'adminAllowedHosts', 'adminForceHttps', 'adminNeedClientAuth', 'sslQuorumKeyStore', 'sslQuorumTrustStore'] as const;
    const again = parseConfig(renderConfig({ dataDir: DATA, clientPort: 2181, ...Object.fromEntries(keys.map((k) => [k, cfg[k]])) }));
    for (const k of keys) expect(again[k], k).toEqual(cfg[k]);
  });

  it('admin.auth.enabled=false turns credentials off, and cannot be combined with a token file', () => {
    expect(cfgOf([...BASE, 'admin.auth.enabled=false']).adminAuthEnabled).toBe(false);
    expect(errOf([...BASE, 'admin.auth.enabled=false', 'admin.tokenFile=/t']).message).toBe(
      'zoo.cfg line 4: admin.tokenFile is set, but admin.auth.enabled=false turns credentials off; remove one of them',
    );
    expect(errOf([...BASE, 'admin.auth.enabled=no']).message).toBe('zoo.cfg line 3: admin.auth.enabled must be true or false, got "no"');
  });

  it('errors name the line and key and say what is missing', () => {
    const cases: [string[], string][] = [
      [['admin.forceHttps=true'], 'zoo.cfg line 3: admin.forceHttps is true, but ssl.quorum.keyStore.location is not set; name the PEM file with the private key and certificate chain'],
      [['admin.needClientAuth=true'], 'zoo.cfg line 3: admin.needClientAuth is true, but admin.forceHttps is not: client certificates need HTTPS; set admin.forceHttps=true'],
      [
        ['admin.forceHttps=true', `ssl.quorum.keyStore.location=${PEM}`, 'admin.needClientAuth=true'],
        'zoo.cfg line 5: admin.needClientAuth is true, but ssl.quorum.trustStore.location is not set; name the PEM file with the CA certificates clients are checked against',
      ],
      [['ssl.quorum.keyStore.location=/k/store.jks'], 'zoo.cfg line 3: ssl.quorum.keyStore.location names a JKS store; zablab reads PEM files only (ssl.quorum.keyStore.type=PEM): convert it, e.g. with openssl pkcs12 -nodes'],
      [[`ssl.quorum.trustStore.location=${CA}`, 'ssl.quorum.trustStore.type=PKCS12'], 'zoo.cfg line 4: ssl.quorum.trustStore.type names a PKCS12 store; zablab reads PEM files only (ssl.quorum.trustStore.type=PEM): convert it, e.g. with openssl pkcs12 -nodes'],
      [['admin.tokenFile='], 'zoo.cfg line 3: admin.tokenFile must name a file'],
      [['admin.allowedHosts=ok.example, not a host'], 'zoo.cfg line 3: admin.allowedHosts must be a comma-separated list of host names or addresses (or *), got "not a host"'],
    ];
    for (const [lines, message] of cases) {
      const err = errOf([...BASE, ...lines]);
      expect(err.message).toBe(message);
      expect(err.line).toBe(Number(/line (\d+)/.exec(message)![1]));
    }
  });

  it('configErrorAt names the file and line of a key for problems found later (in the files keys name)', () => {
    const cfg = parseConfig([...BASE, 'admin.tokenFile=/t'].join('\n'), { path: '/etc/zk/zoo.cfg' });
    const err = configErrorAt(cfg, 'admin.tokenFile', 'names /t, which does not exist');
    expect(err.message).toBe('zoo.cfg line 3: admin.tokenFile names /t, which does not exist');
    expect([err.line, err.key, err.code]).toEqual([3, 'admin.tokenFile', 'ZABLAB_CONFIG']);
  });
});

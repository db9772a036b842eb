/**
 * zoo.cfg keys that secure the peers: sslQuorum with the ssl.quorum.* keys of ZooKeeper's
 * QuorumX509Util, and quorum.auth.* (ZooKeeper's switches, zablab's secret file). They fail
 * closed: a switch without what it needs, or a quorum security key zablab does not implement,
 * stops the server with the zoo.cfg line and key.
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, renderConfig, type ConfigError, type ZabConfig } from '../../../src/server/config.js';
import { cfgOf as parseCfg, DATA, errOf as parseErr } from './parse.js';

const BASE = [`dataDir=${DATA}`, 'initLimit=10', 'syncLimit=5', 'server.1=127.0.0.1:2888:3888;2181', 'server.2=127.0.0.1:2889:3889', 'server.3=127.0.0.1:2890:3890'];
/** Open peer ports, asked for in writing as zablab requires. */
const OPEN = [...BASE, 'quorum.auth.enableSasl=false'];
const STORES = ['ssl.quorum.keyStore.location=/etc/zablab/s1.pem', 'ssl.quorum.trustStore.location=/etc/zablab/ca.pem'];
const AUTH = ['quorum.auth.enableSasl=true', 'quorum.auth.learnerRequireSasl=true', 'quorum.auth.serverRequireSasl=true', 'quorum.auth.secretFile=/etc/zablab/quorum-secret'];
const readMyid = (): string => '1';

/** Server 1 of the ensemble in BASE. */
const cfgOf = (lines: string[]): ZabConfig => parseCfg(lines, '1');
const errOf = (lines: string[]): ConfigError => parseErr(lines, '1');

describe('peer security in zoo.cfg', () => {
  it('an ensemble whose peer ports would be open without a word refuses to start, saying how to secure them or open them in writing', () => {
    const err = errOf(BASE);
    expect(err.message).toContain('zoo.cfg: the quorum and election ports would be open: any process that reaches them could claim a member id');
    expect(err.message).toContain('quorum.auth.secretFile=<file, mode 600>');
    expect(err.message).toContain('or write quorum.auth.enableSasl=false to run them open, as ZooKeeper does by default');
    expect(err.key).toBe('quorum.auth.enableSasl');
    // A standalone server has no peer ports; TLS or the secret secure them.
    expect(cfgOf([`dataDir=${DATA}`, 'clientPort=2181']).standalone).toBe(true);
    expect(cfgOf([...BASE, 'sslQuorum=true', ...STORES]).sslQuorum).toBe(true);
    expect(cfgOf([...BASE, ...AUTH]).quorumAuthEnableSasl).toBe(true);
  });

  it("otherwise the defaults are ZooKeeper's: no TLS, no authentication, hostname verification on, TLS 1.2 and 1.3", () => {
    const cfg = cfgOf(OPEN);
    expect(cfg).toMatchObject({
      sslQuorum: false,
      sslQuorumHostnameVerification: true,
      sslQuorumProtocols: ['TLSv1.2', 'TLSv1.3'],
      quorumAuthEnableSasl: false,
      quorumAuthLearnerRequireSasl: false,
      quorumAuthServerRequireSasl: false,
      warnings: [],
    });
    expect(cfg.quorumAuthSecretFile).toBeUndefined();
  });

  it('reads sslQuorum with its stores and the ssl.quorum keys, in both spellings', () => {
    const cfg = cfgOf([
      ...BASE,
      'zookeeper.sslQuorum=true',
      ...STORES,
      'ssl.quorum.hostnameVerification=false',
      'zookeeper.ssl.quorum.protocol=TLSv1.3',
      'ssl.quorum.clientAuth=NEED',
      'ssl.quorum.crl=false',
      'ssl.quorum.ocsp=false',
      'sslQuorumReloadCertFiles=false',
      'portUnification=false',
      'ssl.quorum.trustStore.password=unused',
    ]);
    expect(cfg).toMatchObject({ sslQuorum: true, sslQuorumHostnameVerification: false, sslQuorumProtocols: ['TLSv1.3'], warnings: [] });
    expect(cfg.sslQuorumKeyStore?.location).toBe('/etc/zablab/s1.pem');
  });

  it('enabledProtocols wins over protocol, as in ZooKeeper; old versions are refused', () => {
    expect(cfgOf([...OPEN, 'ssl.quorum.protocol=TLSv1.3', 'ssl.quorum.enabledProtocols=TLSv1.3, TLSv1.2']).sslQuorumProtocols).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(cfgOf([...OPEN, 'ssl.quorum.protocol=TLS']).sslQuorumProtocols).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(errOf([...OPEN, 'ssl.quorum.enabledProtocols=TLSv1.1,TLSv1.2']).message).toBe(
      'zoo.cfg line 8: ssl.quorum.enabledProtocols names TLSv1.1, which zablab does not serve (TLS 1.2 and 1.3 only; older versions are broken)',
    );
  });

  it('reads quorum.auth.* and the secret file', () => {
    const cfg = cfgOf([...BASE, ...AUTH]);
    expect(cfg).toMatchObject({
      quorumAuthEnableSasl: true,
      quorumAuthLearnerRequireSasl: true,
      quorumAuthServerRequireSasl: true,
      quorumAuthSecretFile: '/etc/zablab/quorum-secret',
      warnings: [],
    });
    expect(cfg.lines.get('quorum.auth.secretFile')).toBe(10);
  });

  it('warns that enableSasl without the require switches still lets unauthenticated peers in', () => {
    const cfg = cfgOf([...BASE, 'quorum.auth.enableSasl=true', 'quorum.auth.secretFile=/etc/zablab/quorum-secret']);
    expect(cfg.warnings).toEqual([
      "zoo.cfg line 7: quorum.auth.enableSasl=true without quorum.auth.serverRequireSasl=true still accepts peers that do not authenticate (ZooKeeper's rolling-upgrade mode); set quorum.auth.learnerRequireSasl=true and quorum.auth.serverRequireSasl=true on every server",
    ]);
  });

  it('fails closed: a switch without what it needs stops the start, naming the line and key', () => {
    const cases: [string[], string][] = [
      [['sslQuorum=true'], "zoo.cfg line 7: sslQuorum is true, but ssl.quorum.keyStore.location is not set; name the PEM file with this server's private key and certificate chain"],
      [['sslQuorum=true', STORES[0]!], 'zoo.cfg line 7: sslQuorum is true, but ssl.quorum.trustStore.location is not set; name the PEM file with the CA certificates peers are checked against'],
      [['quorum.auth.enableSasl=true'], 'zoo.cfg line 7: quorum.auth.enableSasl is true, but quorum.auth.secretFile is not set; name the file (mode 600) that holds the secret every server of the ensemble shares'],
      [['quorum.auth.secretFile=/s'], 'zoo.cfg line 7: quorum.auth.secretFile is set, but quorum.auth.enableSasl is not true; set quorum.auth.enableSasl=true (and the two require switches) or remove quorum.auth.secretFile'],
      [['quorum.auth.serverRequireSasl=true'], 'zoo.cfg line 7: quorum.auth.serverRequireSasl is true, but quorum.auth.enableSasl is not; set quorum.auth.enableSasl=true and quorum.auth.secretFile'],
      [
        ['quorum.auth.enableSasl=true', 'quorum.auth.serverRequireSasl=true', 'quorum.auth.secretFile=/s'],
        'zoo.cfg line 8: quorum.auth.serverRequireSasl is true, but quorum.auth.learnerRequireSasl is not: this server could not join peers that require it; set both',
      ],
      [['ssl.quorum.clientAuth=want'], 'zoo.cfg line 7: ssl.quorum.clientAuth must be need, got "want": zablab\'s quorum TLS always asks the dialing peer for a certificate (ZooKeeper\'s default); remove the line or write need'],
      [['sslQuorumReloadCertFiles=true'], 'zoo.cfg line 7: sslQuorumReloadCertFiles is true, which zablab does not implement: zablab reads the quorum key and trust stores once, at start; restart a server to load new certificates; remove the line or set it to false'],
      [['portUnification=true'], 'zoo.cfg line 7: portUnification is true, which zablab does not implement: a zablab quorum port speaks TLS (sslQuorum=true) or plaintext, never both; remove the line or set it to false'],
      [['ssl.quorum.ocsp=true'], 'zoo.cfg line 7: ssl.quorum.ocsp is true, which zablab does not implement: zablab does not check OCSP; revoke by replacing the CA in the trust stores; remove the line or set it to false'],
    ];
    for (const [extra, message] of cases) {
      const err = errOf([...BASE, ...extra]);
      expect(err.message).toBe(message);
      expect(err.line).toBe(Number(/line (\d+)/.exec(message)![1]));
    }
  });

  it('refuses quorum security keys zablab does not implement instead of warning and serving open', () => {
    const cases: [string, string][] = [
      ['ssl.quorum.ciphersuites=TLS_AES_128_GCM_SHA256', "ssl.quorum.ciphersuites is not supported: zablab's quorum TLS offers Node's default suites"],
      ['zookeeper.ssl.quorum.context.supplier.class=x.Y', 'zookeeper.ssl.quorum.context.supplier.class is not supported: zablab reads its quorum TLS material from the PEM files'],
      ['quorum.auth.learner.saslLoginContext=QuorumLearner', 'quorum.auth.learner.saslLoginContext is not supported: zablab reads the quorum secret from quorum.auth.secretFile, not from a JAAS login context'],
      ['quorum.auth.kerberos.servicePrincipal=zkquorum/localhost', 'is not supported: zablab\'s quorum authentication is a shared secret'],
      ['quorum.auth.saslMechanism=GSSAPI', 'quorum.auth.saslMechanism is not supported: zablab does not implement this quorum security setting'],
      ['ssl.quorum.keyStore.alias=zk1', 'ssl.quorum.keyStore.alias is not supported: zablab does not implement this quorum security setting'],
      ['zookeeper.quorum.auth.enableSasl=true', 'zookeeper.quorum.auth.enableSasl is not supported: ZooKeeper never reads this spelling; write quorum.auth.enableSasl'],
    ];
    for (const [line, message] of cases) {
      const err = errOf([...BASE, line]);
      expect(err.message).toContain('zoo.cfg line 7: ');
      expect(err.message).toContain(message);
      expect(err.line).toBe(7);
    }
    // The client port's TLS keys are another matter (client-security tests): without a TLS port they only warn.
    expect(cfgOf([...OPEN, 'ssl.keyStore.location=/x.pem']).warnings).toEqual([
      'zoo.cfg line 8: ssl.keyStore.location has no effect: neither secureClientPort nor client.portUnification is set, so the client port serves no TLS',
    ]);
  });

  it('round-trips through renderConfig', () => {
    const cfg = cfgOf([...BASE, 'sslQuorum=true', ...STORES, 'ssl.quorum.hostnameVerification=false', 'ssl.quorum.protocol=TLSv1.2', ...AUTH]);
    const again = parseConfig(renderConfig(cfg), { readMyid });
    for (const k of ['sslQuorum', 'sslQuorumHostnameVerification', 'sslQuorumProtocols', 'quorumAuthEnableSasl', 'quorumAuthLearnerRequireSasl', 'quorumAuthServerRequireSasl', 'quorumAuthSecretFile'] as const) {
      expect(again[k]).toEqual(cfg[k]);
    }
  });
});

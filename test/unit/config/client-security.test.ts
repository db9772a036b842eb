/**
 * zoo.cfg keys of the client port's TLS and authentication: secureClientPort,
 * client.portUnification and the ssl.* keys (ZooKeeper's ClientX509Util), authProvider.N,
 * enforce.auth.*, sessionRequireClientSASLAuth, the super users, and zablab.sasl.jaasFile.
 * Whatever zablab cannot honour stops the server with the line and key (fail closed).
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, renderConfig, type ZabConfig } from '../../../src/server/config.js';
import { cfgOf, DATA, errOf } from './parse.js';

const BASE = [`dataDir=${DATA}`, 'clientPort=2181'];
const KEY = path.join(os.tmpdir(), 'server.pem');
const CA = path.join(os.tmpdir(), 'ca.crt');
const TLS = ['secureClientPort=2281', `ssl.keyStore.location=${KEY}`, `ssl.trustStore.location=${CA}`];
const SASL_PROVIDER = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';

describe('client-port TLS keys', () => {
  it('by default: no TLS port, no extra schemes, nothing enforced', () => {
    const cfg = cfgOf(BASE);
    expect(cfg).toMatchObject({ secureClientPort: 0, clientPortUnification: false, authProviders: [], enforceAuthSchemes: [], saslSuperUsers: [], warnings: [] });
    expect(cfg.clientTls).toBeUndefined();
  });

  it("reads secureClientPort with ZooKeeper's defaults: clientAuth need, TLSv1.2 only, x509 registered", () => {
    const cfg = cfgOf([...BASE, ...TLS, 'secureClientPortAddress=127.0.0.1']);
    expect(cfg).toMatchObject({ secureClientPort: 2281, secureClientPortAddress: '127.0.0.1', authProviders: ['x509'], warnings: [] });
    expect(cfg.clientTls).toEqual({
      keyStore: { location: KEY, type: 'PEM' },
      trustStore: { location: CA, type: 'PEM' },
      clientAuth: 'need',
      protocol: 'TLSv1.2',
      hostnameVerification: true,
      handshakeDetectionTimeoutMs: 5000,
    });
  });

  it('reads the zookeeper.ssl.* spellings, clientAuth in any case, protocols and cipher suites', () => {
    const cfg = cfgOf([
      ...BASE,
      'secureClientPort=2281',
      `zookeeper.ssl.keyStore.location=${KEY}`,
      'zookeeper.ssl.keyStore.type=pem',
      'ssl.keyStore.passwordPath=/etc/zk/pass',
      'ssl.clientAuth=NONE',
      'ssl.enabledProtocols=TLSv1.3, TLSv1.2',
      'ssl.ciphersuites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256',
    ]);
    expect(cfg.clientTls).toMatchObject({
      keyStore: { location: KEY, type: 'PEM', passwordPath: '/etc/zk/pass' },
      clientAuth: 'none',
      enabledProtocols: ['TLSv1.3', 'TLSv1.2'],
      cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
    });
    expect(cfg.clientTls?.trustStore).toBeUndefined();
  });

  it('client.portUnification alone serves TLS on clientPort, and needs the stores too', () => {
    expect(cfgOf([...BASE, 'client.portUnification=true', `ssl.keyStore.location=${KEY}`, `ssl.trustStore.location=${CA}`])).toMatchObject({
      clientPortUnification: true,
      secureClientPort: 0,
      authProviders: ['x509'],
    });
    expect(errOf([...BASE, 'zookeeper.client.portUnification=true']).message).toBe(
      'zoo.cfg line 3: zookeeper.client.portUnification is set, but ssl.keyStore.location is not: zablab does not serve TLS without a key; name the PEM file with the private key and certificate chain',
    );
  });

  it.each([
    [['secureClientPort=2281'], 'zoo.cfg line 3: secureClientPort is set, but ssl.keyStore.location is not: zablab does not serve TLS without a key; name the PEM file with the private key and certificate chain'],
    [
      ['secureClientPort=2281', `ssl.keyStore.location=${KEY}`],
      "zoo.cfg line 3: secureClientPort is set and ssl.clientAuth is need (ZooKeeper's default), but ssl.trustStore.location is not; name the PEM file with the CA certificates client certificates are checked against (or set ssl.clientAuth=none)",
    ],
    [
      ['secureClientPort=2281', `ssl.keyStore.location=${KEY}`, 'ssl.clientAuth=want'],
      'zoo.cfg line 5: ssl.clientAuth is want, but ssl.trustStore.location is not; name the PEM file with the CA certificates client certificates are checked against (or set ssl.clientAuth=none)',
    ],
    [[...TLS, 'ssl.clientAuth=maybe'], 'zoo.cfg line 6: ssl.clientAuth must be need, want or none, got "maybe"'],
    [['secureClientPort=2281', '/k/store.jks'.replace(/^/, 'ssl.keyStore.location=')], 'zoo.cfg line 4: ssl.keyStore.location names a JKS store; zablab reads PEM files only (ssl.keyStore.type=PEM): convert it, e.g. with openssl pkcs12 -nodes'],
    [[...TLS, 'ssl.trustStore.type=JKS'], 'zoo.cfg line 6: ssl.trustStore.type names a JKS store; zablab reads PEM files only (ssl.trustStore.type=PEM): convert it, e.g. with openssl pkcs12 -nodes'],
    [[...TLS, 'ssl.crl=true'], 'zoo.cfg line 6: ssl.crl is true, but zablab does not check certificate revocation; remove it (or set it to false)'],
    [[...TLS, 'zookeeper.ssl.ocsp=true'], 'zoo.cfg line 6: zookeeper.ssl.ocsp is true, but zablab does not check certificate revocation; remove it (or set it to false)'],
    [[...TLS, 'ssl.context.supplier.class=com.example.Ctx'], 'zoo.cfg line 6: ssl.context.supplier.class names a Java class that builds the SSLContext; zablab cannot load it: configure ssl.keyStore.* and ssl.trustStore.* instead'],
    [[...TLS, 'ssl.authProvider=mine'], 'zoo.cfg line 6: ssl.authProvider is "mine"; zablab authenticates TLS clients with X509AuthenticationProvider only (ssl.authProvider=x509)'],
    [[...TLS, 'ssl.protocol=TLSv1.1'], 'zoo.cfg line 6: ssl.protocol names TLSv1.1, which zablab does not serve (TLS 1.2 and 1.3 only; older versions are broken)'],
    [[...TLS, 'ssl.enabledProtocols=TLSv1.2,TLSv9'], 'zoo.cfg line 6: ssl.enabledProtocols names "TLSv9", which is not a TLS protocol name (TLSv1.2, TLSv1.3 or TLS)'],
    [[...TLS, 'ssl.ciphersuites=TLS_RSA_WITH_RC4_128_MD5'], 'zoo.cfg line 6: ssl.ciphersuites names TLS_RSA_WITH_RC4_128_MD5, which zablab cannot map to an OpenSSL cipher; name TLS 1.2 ECDHE/DHE/RSA AES-GCM, AES-CBC or CHACHA20 suites, or TLS 1.3 suites'],
    [['secureClientPort=2181'], 'zoo.cfg line 3: secureClientPort is 2181, which is also clientPort; give the TLS client port its own port'],
    [['secureClientPortAddress=127.0.0.1'], 'zoo.cfg line 3: secureClientPortAddress is set but secureClientPort is not; add secureClientPort=<port TLS clients connect to>'],
    [['ssl.keystore.location=/x'], 'zoo.cfg line 3: unknown key "ssl.keystore.location"; did you mean "ssl.keyStore.location"?'],
  ])('refuses %j', (lines, message) => {
    expect(errOf([...BASE, ...lines]).message).toBe(message);
  });

  it('ssl.* keys without a TLS client port are accepted with a warning that they do nothing', () => {
    const cfg = cfgOf([...BASE, `ssl.keyStore.location=${KEY}`]);
    expect(cfg.clientTls).toBeUndefined();
    expect(cfg.warnings).toEqual(['zoo.cfg line 3: ssl.keyStore.location has no effect: neither secureClientPort nor client.portUnification is set, so the client port serves no TLS']);
  });
});

describe('authProvider.N, enforce.auth.* and super users', () => {
  it('registers sasl and x509 from their classes; digest and ip are always there', () => {
    const cfg = cfgOf([
      ...BASE,
      `authProvider.1=${SASL_PROVIDER}`,
      'zookeeper.authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider',
      'authProvider.digest=org.apache.zookeeper.server.auth.DigestAuthenticationProvider',
    ]);
    expect(cfg.authProviders).toEqual(['sasl', 'x509']);
  });

  it('a provider zablab does not implement stops the server, naming line and key', () => {
    expect(errOf([...BASE, 'authProvider.2=com.example.LdapAuthenticationProvider']).message).toBe(
      'zoo.cfg line 3: authProvider.2 names com.example.LdapAuthenticationProvider, which zablab does not implement; it has SASLAuthenticationProvider, X509AuthenticationProvider, DigestAuthenticationProvider, IPAuthenticationProvider (org.apache.zookeeper.server.auth)',
    );
    expect(errOf([...BASE, 'authProvider.e=org.apache.zookeeper.server.auth.EnsembleAuthenticationProvider']).key).toBe('authProvider.e');
  });

  it('enforce.auth.enabled with schemes that are registered', () => {
    expect(cfgOf([...BASE, `authProvider.1=${SASL_PROVIDER}`, 'enforce.auth.enabled=true', 'enforce.auth.schemes=sasl, digest']).enforceAuthSchemes).toEqual(['sasl', 'digest']);
    expect(cfgOf([...BASE, ...TLS, 'zookeeper.enforce.auth.enabled=true', 'zookeeper.enforce.auth.schemes=x509']).enforceAuthSchemes).toEqual(['x509']);
  });

  it.each([
    [['enforce.auth.enabled=true'], 'zoo.cfg line 3: enforce.auth.enabled is true, but enforce.auth.schemes is not set; name the schemes a session must have authenticated with (e.g. sasl)'],
    [
      ['enforce.auth.enabled=true', 'enforce.auth.schemes=sasl'],
      'zoo.cfg line 4: enforce.auth.schemes names the sasl scheme, which is not available (schemes: digest, ip); register it with authProvider.N=org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
    ],
    [
      ['enforce.auth.enabled=true', 'enforce.auth.schemes=x509'],
      'zoo.cfg line 4: enforce.auth.schemes names the x509 scheme, which is not available (schemes: digest, ip); register it with authProvider.N=org.apache.zookeeper.server.auth.X509AuthenticationProvider (or serve TLS: secureClientPort)',
    ],
    [['enforce.auth.enabled=true', 'enforce.auth.schemes=kerberos'], 'zoo.cfg line 4: enforce.auth.schemes names the kerberos scheme, which is not available (schemes: digest, ip)'],
    [
      ['sessionRequireClientSASLAuth=true'],
      'zoo.cfg line 3: sessionRequireClientSASLAuth requires the sasl scheme, which is not available (schemes: digest, ip); register it with authProvider.N=org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
    ],
    [['sasl.serverconfig=ZkServer'], 'zoo.cfg line 3: sasl.serverconfig names a JAAS section, but zablab.sasl.jaasFile (the JAAS file with it) is not set'],
  ])('refuses %j', (lines, message) => {
    expect(errOf([...BASE, ...lines]).message).toBe(message);
  });

  it('sessionRequireClientSASLAuth means enforce.auth with sasl, and wins over enforce.auth.*', () => {
    const cfg = cfgOf([...BASE, `authProvider.1=${SASL_PROVIDER}`, 'zablab.sasl.jaasFile=/etc/zk/jaas.conf', 'enforce.auth.enabled=false', 'sessionRequireClientSASLAuth=true']);
    expect(cfg).toMatchObject({ enforceAuthSchemes: ['sasl'], sessionRequireClientSASLAuth: true, saslJaasFile: '/etc/zk/jaas.conf', saslLoginContext: 'Server' });
    expect(cfg.warnings).toEqual(['zoo.cfg line 6: sessionRequireClientSASLAuth=true wins over enforce.auth.*: only SASL-authenticated sessions are served']);
  });

  it('warns when SASL is required but no users are configured, and when logins cannot be named in ACLs', () => {
    expect(cfgOf([...BASE, `authProvider.1=${SASL_PROVIDER}`, 'sessionRequireClientSASLAuth=true']).warnings).toEqual([
      'zoo.cfg line 4: SASL authentication is required, but zablab.sasl.jaasFile names no users: every client will be refused',
    ]);
    expect(cfgOf([...BASE, `zookeeper.authProvider.sasl=${SASL_PROVIDER}`]).warnings).toEqual([
      'zoo.cfg line 3: zookeeper.authProvider.sasl registers SASL, but zablab.sasl.jaasFile is not set: no SASL login can succeed; name the JAAS file with the users (user_<name>="<password>")',
    ]);
    expect(cfgOf([...BASE, 'zablab.sasl.jaasFile=/j', 'sasl.serverconfig=ZkServer'])).toMatchObject({
      saslLoginContext: 'ZkServer',
      warnings: ['zoo.cfg line 3: SASL logins work, but ACLs cannot name sasl ids until authProvider.N=org.apache.zookeeper.server.auth.SASLAuthenticationProvider is set'],
    });
  });

  it('superUser, superUser.N and X509AuthenticationProvider.superUser', () => {
    const cfg = cfgOf([...BASE, 'superUser=admin', 'zookeeper.superUser.2=ops', 'zookeeper.X509AuthenticationProvider.superUser=CN=root,O=zablab']);
    expect(cfg).toMatchObject({ saslSuperUsers: ['admin', 'ops'], x509SuperUser: 'CN=root,O=zablab' });
  });

  it('round-trips through renderConfig', () => {
    const cfg = cfgOf([
      ...BASE,
      ...TLS,
      'client.portUnification=true',
      'ssl.clientAuth=want',
      'ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
      `authProvider.1=${SASL_PROVIDER}`,
      'enforce.auth.enabled=true',
      'enforce.auth.schemes=sasl,x509',
      'zablab.sasl.jaasFile=/etc/zk/jaas.conf',
      'superUser=admin',
      'X509AuthenticationProvider.superUser=CN=root',
    ]);
    const keys = ['secureClientPort', 'clientPortUnification', 'clientTls', 'authProviders', 'enforceAuthSchemes', 'saslJaasFile', 'saslLoginContext', 'saslSuperUsers', 'x509SuperUser'] as const;
    const again = parseConfig(renderConfig({ dataDir: cfg.dataDir, clientPort: cfg.clientPort, ...Object.fromEntries(keys.map((k) => [k, cfg[k]])) }));
    for (const k of keys) expect(again[k], k).toEqual(cfg[k]);
  });
});

/**
 * Who a client connection is, as the server decides it (ZooKeeper's AuthenticationHelper and
 * ProviderRegistry, read once from zoo.cfg): the schemes ACLs may name, whether a session
 * must have authenticated with one of enforce.auth.schemes before it may do anything, and
 * which SASL and x509 ids are super users.
 */
import { digestProvider, ipProvider, ProviderRegistry, saslProvider, x509Provider, type AuthId, type AuthProvider } from '../../tree/index.js';
import type { ZabConfig } from '../config.js';

export const SASL_SCHEME = 'sasl';
export const X509_SCHEME = 'x509';
export const SUPER_SCHEME = 'super';

type AuthConfig = Pick<ZabConfig, 'authProviders' | 'enforceAuthSchemes' | 'saslSuperUsers' | 'x509SuperUser'>;

export class AuthenticationHelper {
  readonly providers: ProviderRegistry;
  private readonly enforced: ReadonlySet<string>;
  private readonly saslSuperUsers: ReadonlySet<string>;
  readonly x509SuperUser: string | undefined;

  constructor(cfg: AuthConfig) {
    const extra: AuthProvider[] = cfg.authProviders.map((scheme) => (scheme === 'sasl' ? saslProvider : x509Provider(cfg.x509SuperUser)));
    this.providers = new ProviderRegistry([digestProvider, ipProvider, ...extra]);
    this.enforced = new Set(cfg.enforceAuthSchemes);
    this.saslSuperUsers = new Set(cfg.saslSuperUsers);
    this.x509SuperUser = cfg.x509SuperUser;
  }

  /** enforce.auth.enabled (or sessionRequireClientSASLAuth). */
  get enforceAuthEnabled(): boolean {
    return this.enforced.size > 0;
  }

  get enforceAuthSchemes(): string[] {
    return [...this.enforced];
  }

  /** ZooKeeper's isSaslAuthRequired: then a failed SASL login is answered SESSIONCLOSEDREQUIRESASLAUTH, not AUTHFAILED. */
  get saslAuthRequired(): boolean {
    return this.enforced.has(SASL_SCHEME);
  }

  /** Has the connection authenticated with one of the enforced schemes? (Always, when nothing is enforced.) */
  isCnxnAuthenticated(authInfo: readonly AuthId[]): boolean {
    if (this.enforced.size === 0) return true;
    return authInfo.some((a) => this.enforced.has(a.scheme));
  }

  /** ZooKeeperServer.isSaslSuperUser: superUser or superUser.N names it. */
  isSaslSuperUser(id: string): boolean {
    return id !== '' && this.saslSuperUsers.has(id);
  }

  /** The ids a verified client certificate with this subject gives a connection (X509AuthenticationProvider.handleAuthentication). */
  x509Ids(subjectDn: string): AuthId[] {
    const ids: AuthId[] = [];
    if (this.x509SuperUser !== undefined && subjectDn === this.x509SuperUser) ids.push({ scheme: SUPER_SCHEME, id: subjectDn });
    ids.push({ scheme: X509_SCHEME, id: subjectDn });
    return ids;
  }
}

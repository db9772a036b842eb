/** harness/tls: a throwaway certificate authority and its server and client certificates, as PEM (ZooKeeper's layouts). */
export { createCertificateAuthority, writeStores } from './certificates.js';
export type { CertificateAuthority, CertificateOptions, IssuedCertificate, KeyAlgorithm, ServerCertificateOptions, StoreFiles } from './certificates.js';

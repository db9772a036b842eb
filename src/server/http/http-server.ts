/** Start and stop the HTTP face on admin.serverAddress:admin.serverPort. */
import { buildHttpApp, type HttpServerDeps } from './app.js';
import { HttpError } from './errors.js';

export interface RunningHttpServer {
  /** The bound port (admin.serverPort, or the OS's choice when it is 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listen on admin.serverAddress:admin.serverPort. Like a standalone ZooKeeper whose
 * AdminServer cannot start, a port that cannot be bound is an error (ZABLAB_HTTP_LISTEN):
 * the server does not run without the face it was configured with.
 */
export async function startHttpServer(deps: HttpServerDeps): Promise<RunningHttpServer> {
  const { cfg } = deps;
  const http = await buildHttpApp(deps);
  try {
    await http.app.listen({ host: cfg.adminServerAddress, port: cfg.adminServerPort });
  } catch (err) {
    await http.close();
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new HttpError(
      500,
      'ZABLAB_HTTP_LISTEN',
      null,
      `the admin HTTP server cannot listen on ${cfg.adminServerAddress}:${cfg.adminServerPort} (${reason}); choose another admin.serverPort or set admin.enableServer=false`,
    );
  }
  const address = http.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : cfg.adminServerPort;
  const { auth, tls } = deps.credentials;
  deps.server.log.info('admin HTTP server listening', {
    address: cfg.adminServerAddress,
    port,
    scheme: tls === null ? 'http' : 'https',
    clientAuth: tls?.requestCert ?? false,
    credentials: auth.kind === 'token' ? 'bearer token' : auth.kind,
  });
  if (auth.kind === 'unset') {
    deps.server.log.warn('admin.tokenFile is not set: /v1/znodes, /v1/children, /v1/faults and the session, connection and watch commands answer 401; set admin.tokenFile (or admin.auth.enabled=false)');
  }
  return { port, close: () => http.close() };
}

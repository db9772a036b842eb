/**
 * The HTTP face (fastify) on admin.serverPort: ZooKeeper's AdminServer commands, health,
 * the REST face on znodes, fault control and (once telemetry provides it) /metrics. The
 * handlers are thin: the work is in commands.ts, znodes.ts and faults.ts.
 *
 *   GET /commands, /commands/<name>       ZooKeeper AdminServer commands (JSON as ZooKeeper's)
 *   GET /healthz                          200 {"status":"ok"} while the process runs
 *   GET /readyz                           200 while serving clients (in broadcast), else 503
 *   GET /metrics                          Prometheus text, or 501 until telemetry is wired
 *   /v1/znodes/<path>, /v1/children/<path>  see znodes.ts
 *   GET|POST /v1/faults                   see faults.ts
 *
 * access.ts decides who may use which route (token, Host, Origin); with admin.forceHttps the
 * face speaks HTTPS only, as ZooKeeper's AdminServer does.
 */
import http from 'node:http';
import https from 'node:https';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ZabConfig } from '../config.js';
import type { ServerView } from '../four-letter.js';
import { FaultArgumentError } from '../quorum/faults.js';
import type { ZooKeeperServer } from '../zk-server.js';
import { accessGuard } from './access.js';
import { primaryNames, runCommand, type CommandContext } from './commands.js';
import type { AdminCredentials } from './credentials.js';
import { HttpError, zablabError } from './errors.js';
import { registerFaultRoutes } from './faults.js';
import { JsonTooLargeError, toJson } from './json.js';
import { LeaderClock, withQuorum, zabPhase, type QuorumDeps } from './quorum-view.js';
import { RestSession, type RestSessionOptions } from './rest-session.js';
import { validationMessage } from './validation.js';
import { registerZnodeRoutes } from './znodes.js';

/** Where /metrics text comes from (the telemetry module provides one). */
export interface MetricsSource {
  readonly contentType: string;
  collect(): string | Promise<string>;
}

export interface HttpServerDeps {
  server: ZooKeeperServer;
  /** The server as the four-letter words see it (built per call; cheap). */
  view: () => ServerView;
  cfg: ZabConfig;
  /** The token and TLS material (loadAdminCredentials), read before the server bound anything. */
  credentials: AdminCredentials;
  /** Present on a quorum server (QuorumServer's peer and faults). */
  quorum?: QuorumDeps;
  metrics?: MetricsSource;
  /** Limits of the REST face's session; defaults in DEFAULT_REST_SESSION_OPTIONS. */
  rest?: Partial<RestSessionOptions>;
}

export interface HttpApp {
  readonly app: FastifyInstance;
  readonly rest: RestSession;
  /** Fail REST requests in flight, close the REST session, stop fastify. */
  close(): Promise<void>;
}

/** Body size of requests other than znode data (fault settings). */
const BODY_LIMIT_BYTES = 64 * 1024;
/** A request (headers and body) must arrive within this time. */
const REQUEST_TIMEOUT_MS = 120_000;
/** How often a leader's start time is sampled for mntr's leader_uptime. */
const LEADER_SAMPLE_MS = 100;
/** Jetty's SecureRequestCustomizer in ZooKeeper's AdminServer: one day, subdomains included. */
const HSTS = 'max-age=86400; includeSubDomains';

export async function buildHttpApp(deps: HttpServerDeps): Promise<HttpApp> {
  const { server, cfg, quorum, credentials } = deps;
  const tls = credentials.tls;
  const app = Fastify({
    // fastify's own https option would change the instance's type; the server is the only difference.
    ...(tls === null
      ? {}
      : {
          serverFactory: (handler: http.RequestListener) =>
            https.createServer({ ...tls, rejectUnauthorized: tls.requestCert, minVersion: 'TLSv1.2' }, handler) as unknown as http.Server,
        }),
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    forceCloseConnections: 'idle',
    // Unknown query parameters are errors, not silently dropped (a typo in ?version= must not delete unconditionally).
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: (err, _req, res) => {
      const reply = res as unknown as FastifyReply;
      void reply.code(400).send(zablabError(400, 'ZABLAB_HTTP_BAD_REQUEST', `${err.message}; percent-encode the path`).body());
    },
  });
  const rest = new RestSession(server, deps.rest);
  const clock = quorum === undefined ? undefined : new LeaderClock(quorum.peer);
  const sampler = clock === undefined ? undefined : setInterval(() => clock.sample(), LEADER_SAMPLE_MS);
  sampler?.unref();
  const view = (): ServerView => (quorum === undefined || clock === undefined ? deps.view() : withQuorum(deps.view(), quorum.peer, clock));
  const context = (): CommandContext => ({ server, view: view(), cfg, quorum });

  app.addHook('onRequest', accessGuard({ cfg, auth: credentials.auth, scheme: tls === null ? 'http' : 'https' }));
  if (tls !== null) {
    app.addHook('onSend', async (_req, reply) => {
      void reply.header('strict-transport-security', HSTS);
    });
  }
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => sendError(err, req, reply, server));
  app.setNotFoundHandler((req, reply) => {
    const e = zablabError(
      404,
      'ZABLAB_HTTP_NOT_FOUND',
      `no route ${req.method} ${req.url.split('?')[0]}; routes: /commands, /commands/<name>, /healthz, /readyz, /metrics, /v1/znodes/<path>, /v1/children/<path>, /v1/faults`,
    );
    return reply.code(404).send(e.body());
  });

  // ZooKeeper lists its commands as HTML links; ask for JSON to get {commands: [...]}.
  const list = async (req: FastifyRequest, reply: FastifyReply) => {
    const names = primaryNames();
    if ((req.headers.accept ?? '').includes('application/json')) return { commands: names };
    return reply.type('text/html; charset=utf-8').send(names.map((n) => `<a href="/commands/${n}">${n}</a>\n<br/>\n`).join(''));
  };
  app.get('/commands', list);
  app.get('/commands/', list);
  app.get<{ Params: { name: string } }>('/commands/:name', async (req, reply) => {
    const answer = await runCommand(req.params.name, context());
    let text: string;
    try {
      text = toJson(answer);
    } catch (err) {
      if (!(err instanceof JsonTooLargeError)) throw err;
      text = toJson({ command: answer['command'] ?? req.params.name, error: err.message });
    }
    return reply.type('application/json').send(text);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const serving = server.serving;
    const body: Record<string, string> = { status: serving ? 'ready' : 'unavailable', state: server.state };
    if (quorum !== undefined) {
      body['peerState'] = quorum.peer.state;
      body['zabState'] = zabPhase(quorum.peer);
    }
    return reply.code(serving ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_req, reply) => {
    if (deps.metrics === undefined) {
      const e = zablabError(501, 'ZABLAB_HTTP_METRICS_UNAVAILABLE', 'this build does not export metrics yet; use /commands/mntr');
      return reply.code(501).send(e.body());
    }
    const text = await deps.metrics.collect();
    return reply.type(deps.metrics.contentType).send(text);
  });

  await app.register(async (z) => registerZnodeRoutes(z, { rest, juteMaxBuffer: cfg.juteMaxBuffer, log: server.log }));
  registerFaultRoutes(app, cfg, quorum?.faults);
  await app.ready();

  let closing: Promise<void> | null = null;
  return {
    app,
    rest,
    close: () => {
      closing ??= (async () => {
        if (sampler !== undefined) clearInterval(sampler);
        rest.close();
        await app.close();
      })();
      return closing;
    },
  };
}

function sendError(err: FastifyError | HttpError, req: FastifyRequest, reply: FastifyReply, server: ZooKeeperServer): FastifyReply {
  let e: HttpError;
  if (err instanceof HttpError) {
    e = err;
  } else if (err instanceof FaultArgumentError) {
    e = zablabError(400, 'ZABLAB_HTTP_FAULT_ARGUMENT', err.message);
  } else if (err.validation) {
    e = zablabError(400, 'ZABLAB_HTTP_BAD_REQUEST', validationMessage(err.validation, err.validationContext));
  } else if (err.statusCode === 415) {
    e = zablabError(415, 'ZABLAB_HTTP_UNSUPPORTED_MEDIA_TYPE', `${err.message}; send application/json`);
  } else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    e = zablabError(err.statusCode, 'ZABLAB_HTTP_BAD_REQUEST', err.message);
  } else {
    server.log.error('HTTP request failed', { method: req.method, url: req.url, error: err.stack ?? String(err) });
    e = zablabError(500, 'ZABLAB_HTTP_INTERNAL', 'internal error in the HTTP face; see the server log');
  }
  return reply.code(e.statusCode).type('application/json').send(e.body());
}

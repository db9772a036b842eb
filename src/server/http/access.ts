/**
 * Who may use the HTTP face: one onRequest hook in front of every route.
 *
 *   probe      /healthz, /readyz, /metrics: no checks (load balancers, Docker and Prometheus
 *              reach them by any name; they show state, change nothing).
 *   open       /commands, stat-only /commands/<name>, unknown routes: Host and Origin checks.
 *   protected  everything else (/v1/znodes, /v1/children, /v1/faults, /commands/<name> with
 *              authRequired; any route added later): Host and Origin checks, JSON-only bodies
 *              where JSON is expected, and the bearer token.
 *
 * Host: DNS rebinding gives a hostile page a name of its own that resolves to 127.0.0.1, so
 * only loopback names and addresses, admin.serverAddress (with a wildcard address: this
 * machine's addresses and host name) and admin.allowedHosts are accepted. Origin and
 * Sec-Fetch-Site: a browser says where a request comes from; anything but this origin is
 * refused. A JSON route refuses text/plain, form and multipart bodies: a page can send those
 * cross-site without asking first. Refusals are 403, missing or wrong tokens 401 with
 * `WWW-Authenticate: Bearer`.
 */
import net from 'node:net';
import os from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZabConfig } from '../config.js';
import { findCommand } from './commands.js';
import { tokenMatches, type AdminAuth } from './credentials.js';
import { zablabError, type HttpError } from './errors.js';

export type RouteAccess = 'probe' | 'open' | 'protected';

const PROBE_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);
const OPEN_ROUTES: ReadonlySet<string> = new Set(['/commands', '/commands/']);
const COMMAND_ROUTE = '/commands/:name';
/** Routes whose body is JSON, as `METHOD route`. */
const JSON_BODY_ROUTES: ReadonlySet<string> = new Set(['POST /v1/faults']);
/** Content types a page may send cross-site without a CORS preflight (the Fetch standard's "simple" ones). */
const SIMPLE_CONTENT_TYPES: ReadonlySet<string> = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);
const REALM = 'Bearer realm="zablab"';

export interface AccessOptions {
  cfg: ZabConfig;
  auth: AdminAuth;
  scheme: 'http' | 'https';
}

/** The route's access class; a route no list names is protected. */
export function routeAccess(req: FastifyRequest): RouteAccess {
  const route = req.routeOptions.url;
  if (route === undefined) return 'open'; // no such route: the 404 shows nothing
  if (PROBE_ROUTES.has(route)) return 'probe';
  if (OPEN_ROUTES.has(route)) return 'open';
  if (route === COMMAND_ROUTE) {
    const name = (req.params as { name?: string }).name ?? '';
    // An unknown name answers ZooKeeper's "Unknown command" either way.
    return findCommand(name)?.authRequired === true ? 'protected' : 'open';
  }
  return 'protected';
}

/** The onRequest hook: answers 401/403 itself (and returns the reply, as fastify asks), or lets the request through. */
export function accessGuard(opts: AccessOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const hosts = new HostCheck(opts.cfg);
  return async (req, reply) => {
    const access = routeAccess(req);
    if (access === 'probe') return undefined;
    const refusal = hosts.refusal(req) ?? originRefusal(req, opts.scheme) ?? (access === 'protected' ? (bodyRefusal(req) ?? tokenRefusal(req, opts.auth)) : null);
    if (refusal === null) return undefined;
    if (refusal.statusCode === 401) void reply.header('www-authenticate', refusal.code === 'ZABLAB_HTTP_UNAUTHORIZED' && hasBearer(req) ? `${REALM}, error="invalid_token"` : REALM);
    // /commands keeps ZooKeeper's response shape: {"command": ..., "error": "..."}.
    const body = req.routeOptions.url === COMMAND_ROUTE ? { command: commandName(req), error: refusal.message } : refusal.body();
    return reply.code(refusal.statusCode).type('application/json').send(body);
  };
}

function commandName(req: FastifyRequest): string {
  const name = (req.params as { name?: string }).name ?? '';
  return findCommand(name)?.names[0] ?? name;
}

/** Interfaces come and go (a container reconnected to a network): look again after this long. */
const INTERFACES_TTL_MS = 1_000;

/** Host names and addresses the Host header may carry. */
class HostCheck {
  private readonly allowed: ReadonlySet<string>;
  private readonly any: boolean;
  private readonly wildcard: boolean;
  private own: { addresses: ReadonlySet<string>; atMs: number } | null = null;

  constructor(private readonly cfg: ZabConfig) {
    const address = cfg.adminServerAddress.toLowerCase();
    this.wildcard = address === '0.0.0.0' || address === '::' || address === '';
    this.any = cfg.adminAllowedHosts.includes('*');
    this.allowed = new Set([...cfg.adminAllowedHosts, ...(this.wildcard ? [] : [address])]);
  }

  refusal(req: FastifyRequest): HttpError | null {
    const header = req.headers.host;
    // HTTP/1.0 clients may send none; browsers always do.
    if (header === undefined || this.any) return null;
    const host = hostOf(header);
    if (host !== null && this.accepts(host)) return null;
    const extra = this.wildcard ? "this machine's addresses and host name, " : `${this.cfg.adminServerAddress}, `;
    return zablabError(
      403,
      'ZABLAB_HTTP_FORBIDDEN_HOST',
      `Host "${header.slice(0, 100)}" is not a name of this server (a page whose name merely resolves here must not reach it); ` +
        `accepted: localhost, loopback addresses, ${extra}and admin.allowedHosts (${this.cfg.adminAllowedHosts.join(',') || 'none'})`,
    );
  }

  private accepts(host: string): boolean {
    if (host === 'localhost' || host.endsWith('.localhost') || isLoopback(host) || this.allowed.has(host)) return true;
    if (!this.wildcard) return false;
    // Bound to every address: each of them is this server's, and so is its host name.
    return this.ownNames().has(host);
  }

  private ownNames(): ReadonlySet<string> {
    const now = Date.now();
    if (this.own === null || now - this.own.atMs > INTERFACES_TTL_MS) {
      const addresses = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.toLowerCase()));
      this.own = { addresses: new Set([os.hostname().toLowerCase(), ...addresses]), atMs: now };
    }
    return this.own.addresses;
  }
}

/** The host of a Host header (`name:port`, `[v6]:port`), lower case, without a trailing dot; null when malformed. */
export function hostOf(header: string): string | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(header.trim());
  if (m === null) return null;
  const host = (m[1] ?? m[2]!).toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function isLoopback(host: string): boolean {
  const v4 = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  return net.isIPv6(host) && (host === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(host));
}

function originRefusal(req: FastifyRequest, scheme: 'http' | 'https'): HttpError | null {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return crossOrigin(`the browser marks this request ${JSON.stringify(site)} (Sec-Fetch-Site): pages of other origins may not use this server`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  let own: string | null = null;
  try {
    own = req.headers.host === undefined ? null : new URL(`${scheme}://${req.headers.host}`).origin;
  } catch {
    own = null;
  }
  let theirs: string;
  try {
    theirs = new URL(origin).origin;
  } catch {
    theirs = 'null';
  }
  if (own !== null && theirs === own) return null;
  return crossOrigin(`Origin ${JSON.stringify(origin.slice(0, 200))} is not this server (${own ?? 'unknown'}): pages of other origins may not use it`);
}

function bodyRefusal(req: FastifyRequest): HttpError | null {
  const route = req.routeOptions.url;
  if (!JSON_BODY_ROUTES.has(`${req.method} ${route}`)) return null;
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (!SIMPLE_CONTENT_TYPES.has(type)) return null;
  return crossOrigin(`${req.method} ${route} takes a JSON body (Content-Type: application/json); ${type} is refused because any web page can send it without asking`);
}

function crossOrigin(message: string): HttpError {
  return zablabError(403, 'ZABLAB_HTTP_CROSS_ORIGIN', message);
}

function hasBearer(req: FastifyRequest): boolean {
  return /^bearer\s/i.test(req.headers.authorization ?? '');
}

function tokenRefusal(req: FastifyRequest, auth: AdminAuth): HttpError | null {
  switch (auth.kind) {
    case 'off':
      return null;
    case 'unset':
      return zablabError(
        401,
        'ZABLAB_HTTP_NO_CREDENTIALS',
        'this route needs credentials, and this server has none configured: set admin.tokenFile in zoo.cfg to a file holding a token (or admin.auth.enabled=false to turn credentials off)',
      );
    case 'token': {
      const m = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (m !== null && tokenMatches(auth, m[1]!)) return null;
      const why = m === null ? 'no bearer token' : 'a wrong bearer token';
      return zablabError(401, 'ZABLAB_HTTP_UNAUTHORIZED', `${why}: send "Authorization: Bearer <token>" with the token in the file admin.tokenFile names`);
    }
  }
}

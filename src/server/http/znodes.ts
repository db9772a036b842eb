/**
 * The REST face on znodes, the one autocannon drives. Each route builds the same jute
 * request a ZooKeeper client would send and runs it through the server's pipeline on the
 * internal REST session, so writes are proposed (or forwarded to the leader) like any other.
 *
 *   POST   /v1/znodes/<path>?mode=persistent|persistent_sequential|container  body = data → 201 {path, stat}
 *   GET    /v1/znodes/<path>                                                   → 200 {path, data (base64|null), stat}
 *   PUT    /v1/znodes/<path>[?version=N]  body = data                          → 200 {stat}
 *   DELETE /v1/znodes/<path>[?version=N]                                       → 204
 *   GET    /v1/children/<path>                                                 → 200 {children, stat}
 *
 * Bodies are raw bytes whatever their content type. Errors: 400 bad path or arguments, 404
 * NONODE, 409 NODEEXISTS / BADVERSION / NOTEMPTY, 413 over jute.maxbuffer, 503 not serving.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  Code,
  CreateMode,
  CreateRequest,
  Create2Response,
  DeleteRequest,
  GetChildren2Request,
  GetChildren2Response,
  GetDataRequest,
  GetDataResponse,
  OpCode,
  SetDataRequest,
  Stat,
  decode,
  encode,
} from '../../jute/index.js';
import { OPEN_ACL_UNSAFE, pathProblem, type AuthId } from '../../tree/index.js';
import type { Logger } from '../log.js';
import type { Reply } from '../request.js';
import { describeCode, HttpError, keeperError } from './errors.js';
import { RestSessionError, type RestSession } from './rest-session.js';
import { statJson, STAT_JSON_SCHEMA } from './stat-json.js';
import { validationMessage } from './validation.js';

/** Creation modes the REST face offers (no ephemerals: the REST session belongs to the server, not the caller). */
export const REST_CREATE_MODES = {
  persistent: CreateMode.PERSISTENT,
  persistent_sequential: CreateMode.PERSISTENT_SEQUENTIAL,
  container: CreateMode.CONTAINER,
} as const;
export type RestCreateMode = keyof typeof REST_CREATE_MODES;

/** RequestHeader (xid, type) in front of the record: counted against jute.maxbuffer like ZooKeeper counts the packet. */
const REQUEST_HEADER_BYTES = 8;
const INT32_MAX = 0x7fffffff;

export interface ZnodeRoutesDeps {
  rest: RestSession;
  juteMaxBuffer: number;
  log: Logger;
}

const versionQuery = {
  type: 'object',
  properties: { version: { type: 'integer', minimum: -1, maximum: INT32_MAX } },
  additionalProperties: false,
} as const;
const createQuery = {
  type: 'object',
  properties: { mode: { type: 'string', enum: Object.keys(REST_CREATE_MODES) } },
  additionalProperties: false,
} as const;
const noQuery = { type: 'object', properties: {}, additionalProperties: false } as const;

const statOnly = { type: 'object', required: ['stat'], properties: { stat: STAT_JSON_SCHEMA } } as const;
const created = {
  type: 'object',
  required: ['path', 'stat'],
  properties: { path: { type: 'string' }, stat: STAT_JSON_SCHEMA },
} as const;
const dataReply = {
  type: 'object',
  required: ['path', 'data', 'stat'],
  properties: { path: { type: 'string' }, data: { type: ['string', 'null'] }, stat: STAT_JSON_SCHEMA },
} as const;
const childrenReply = {
  type: 'object',
  required: ['children', 'stat'],
  properties: { children: { type: 'array', items: { type: 'string' } }, stat: STAT_JSON_SCHEMA },
} as const;

interface VersionQuery {
  version?: number;
}
interface CreateQuery {
  mode?: RestCreateMode;
}

/** Register the znode routes on `app` (an encapsulated context: its body parser and error handler are its own). */
export function registerZnodeRoutes(app: FastifyInstance, deps: ZnodeRoutesDeps): void {
  const { rest, juteMaxBuffer } = deps;
  // Any content type is the znode's data, byte for byte.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: juteMaxBuffer }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => sendZnodeError(err, req, reply, deps));

  const call = async (req: FastifyRequest, type: number, record: Buffer, path: string): Promise<Buffer | null> => {
    if (record.length + REQUEST_HEADER_BYTES > juteMaxBuffer) {
      throw new HttpError(413, 'BADARGUMENTS', Code.BADARGUMENTS, tooLarge(record.length + REQUEST_HEADER_BYTES, juteMaxBuffer));
    }
    let r: Reply;
    try {
      r = await rest.submit(type, record, authOf(req));
    } catch (err) {
      if (err instanceof RestSessionError) throw keeperError(err.code, notServing(err.code));
      throw err;
    }
    if (r.err !== Code.OK) throw keeperError(r.err, resultMessage(r.err, path));
    return r.body;
  };

  const routes = ['/v1/znodes', '/v1/znodes/*'];
  for (const url of routes) {
    app.post<{ Querystring: CreateQuery }>(
      url,
      { bodyLimit: juteMaxBuffer, schema: { querystring: createQuery, response: { 201: created } } },
      async (req, reply) => {
        const modeName = req.query.mode ?? 'persistent';
        const mode = REST_CREATE_MODES[modeName];
        const path = znodePath(req, mode === CreateMode.PERSISTENT_SEQUENTIAL);
        const type = mode === CreateMode.CONTAINER ? OpCode.createContainer : OpCode.create2;
        const record = encode(CreateRequest, { path, data: bodyBytes(req), acl: [...OPEN_ACL_UNSAFE], flags: mode });
        const out = decode(Create2Response, (await call(req, type, record, path))!);
        return reply.code(201).send({ path: out.path, stat: statJson(out.stat) });
      },
    );
    app.get(url, { schema: { querystring: noQuery, response: { 200: dataReply } } }, async (req) => {
      const path = znodePath(req, false);
      const out = decode(GetDataResponse, (await call(req, OpCode.getData, encode(GetDataRequest, { path, watch: false }), path))!);
      return { path, data: out.data === null ? null : out.data.toString('base64'), stat: statJson(out.stat) };
    });
    app.put<{ Querystring: VersionQuery }>(
      url,
      { bodyLimit: juteMaxBuffer, schema: { querystring: versionQuery, response: { 200: statOnly } } },
      async (req) => {
        const path = znodePath(req, false);
        const record = encode(SetDataRequest, { path, data: bodyBytes(req), version: req.query.version ?? -1 });
        return { stat: statJson(decode(Stat, (await call(req, OpCode.setData, record, path))!)) };
      },
    );
    app.delete<{ Querystring: VersionQuery }>(url, { schema: { querystring: versionQuery } }, async (req, reply) => {
      const path = znodePath(req, false);
      await call(req, OpCode.delete, encode(DeleteRequest, { path, version: req.query.version ?? -1 }), path);
      return reply.code(204).send();
    });
  }
  for (const url of ['/v1/children', '/v1/children/*']) {
    app.get(url, { schema: { querystring: noQuery, response: { 200: childrenReply } } }, async (req) => {
      const path = znodePath(req, false);
      const out = decode(GetChildren2Response, (await call(req, OpCode.getChildren2, encode(GetChildren2Request, { path, watch: false }), path))!);
      return { children: out.children, stat: statJson(out.stat) };
    });
  }
}

/** The znode path of a request: the URL after the route prefix, decoded; '/' when empty. */
function znodePath(req: FastifyRequest, sequential: boolean): string {
  const rest = (req.params as { '*'?: string })['*'] ?? '';
  const path = `/${rest}`;
  // A sequential create may end in '/': the server appends the counter (ZooKeeper's rule).
  const problem = pathProblem(sequential ? `${path}1` : path);
  if (problem !== undefined) {
    throw new HttpError(400, 'BADARGUMENTS', Code.BADARGUMENTS, `invalid znode path ${JSON.stringify(path)}: ${problem}`);
  }
  return path;
}

function bodyBytes(req: FastifyRequest): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/** HTTP clients are anonymous to ACLs but for their address (ZooKeeper's ip scheme, as on the client port). */
function authOf(req: FastifyRequest): AuthId[] {
  const ip = req.ip.startsWith('::ffff:') ? req.ip.slice('::ffff:'.length) : req.ip;
  return [{ scheme: 'ip', id: ip }];
}

function tooLarge(bytes: number, max: number): string {
  return `the request is ${bytes} bytes but jute.maxbuffer is ${max}; store less data per znode (or raise jute.maxbuffer on every server)`;
}

function notServing(code: number): string {
  switch (code) {
    case Code.CONNECTIONLOSS:
      return 'this server is not serving clients now (starting, or electing a leader); retry shortly';
    case Code.OPERATIONTIMEOUT:
      return 'the server did not create the REST session in time; retry shortly';
    default:
      return describeCode(code, 'the REST session');
  }
}

function resultMessage(code: number, path: string): string {
  if (code === Code.OPERATIONTIMEOUT) return `no answer for ${path} in time; a write may still be applied, read before retrying`;
  if (code === Code.THROTTLEDOP) return 'the server is over globalOutstandingLimit with too many REST writes waiting; retry later';
  return describeCode(code, path);
}

function sendZnodeError(err: FastifyError | HttpError, req: FastifyRequest, reply: FastifyReply, deps: ZnodeRoutesDeps): FastifyReply {
  let e: HttpError;
  if (err instanceof HttpError) {
    e = err;
  } else if (err.validation) {
    e = new HttpError(400, 'BADARGUMENTS', Code.BADARGUMENTS, validationMessage(err.validation, err.validationContext, allowedParams(req)));
  } else if (err.statusCode === 413) {
    const length = req.headers['content-length'];
    const message =
      length === undefined
        ? `the request body is larger than jute.maxbuffer (${deps.juteMaxBuffer} bytes); store less data per znode (or raise jute.maxbuffer on every server)`
        : tooLarge(Number(length), deps.juteMaxBuffer);
    e = new HttpError(413, 'BADARGUMENTS', Code.BADARGUMENTS, message);
  } else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    e = new HttpError(400, 'BADARGUMENTS', Code.BADARGUMENTS, err.message);
  } else {
    deps.log.error('REST request failed', { method: req.method, url: req.url, error: err.stack ?? String(err) });
    e = new HttpError(500, 'SYSTEMERROR', Code.SYSTEMERROR, 'internal error in the REST face; see the server log');
  }
  return reply.code(e.statusCode).type('application/json').send(e.body());
}

function allowedParams(req: FastifyRequest): string[] {
  if (req.url.startsWith('/v1/children')) return [];
  switch (req.method) {
    case 'POST':
      return ['mode'];
    case 'PUT':
    case 'DELETE':
      return ['version'];
    default:
      return [];
  }
}

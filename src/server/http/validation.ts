/** Turns fastify's schema validation errors into messages that say what is allowed. */
import type { FastifySchemaValidationError } from 'fastify';

/** Allowed values of a query parameter, for the message about an unknown one. */
export type AllowedParams = readonly string[];

export function validationMessage(
  errors: readonly FastifySchemaValidationError[],
  context: string | undefined,
  allowedParams: AllowedParams = [],
): string {
  const e = errors[0];
  if (e === undefined) return 'the request is invalid';
  const where = context === 'querystring' ? 'query parameter' : context === 'body' ? 'body field' : (context ?? 'value');
  const name = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(params['additionalProperty']);
      const allowed = allowedParams.length === 0 ? 'none are accepted here' : `allowed: ${allowedParams.join(', ')}`;
      return `unknown ${where} "${name === '' ? extra : `${name}.${extra}`}"; ${allowed}`;
    }
    case 'enum': {
      const values = Array.isArray(params['allowedValues']) ? (params['allowedValues'] as unknown[]).join(', ') : '';
      return `${where} "${name}" must be one of: ${values}`;
    }
    case 'type':
      return `${where} "${name}" must be ${params['type'] === 'integer' ? 'an integer' : `of type ${String(params['type'])}`}`;
    case 'minimum':
    case 'maximum':
      return `${where} "${name}" ${e.message ?? 'is out of range'}`;
    default:
      return `${name === '' ? where : `${where} "${name}"`} ${e.message ?? 'is invalid'}`;
  }
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { validate } from '@roomlink/shared';
import type { Caller } from '../auth/tokens';
import { ApiFailure } from '../errors';

type Schema = z.ZodType;
type Infer<S> = S extends Schema ? z.infer<S> : undefined;

export interface RouteContext<P, Q, B> {
  caller: Caller;
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** One row of the API table: method, path, schemas for everything in and out, and the handler. */
export interface Route<P extends Schema | undefined = Schema | undefined, Q extends Schema | undefined = Schema | undefined, B extends Schema | undefined = Schema | undefined> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  /** Routes without a signed-in caller (agent enrollment) say so explicitly. */
  public?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  response: Schema;
  /** For responses that are not JSON (CSV, a gzip download). */
  contentType?: string;
  /** A larger request body than the server's default, for uploads. */
  bodyLimit?: number;
  status?: number;
  handler(context: RouteContext<Infer<P>, Infer<Q>, Infer<B>>): unknown;
}

export const route = <P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(definition: Route<P, Q, B>): Route => definition as unknown as Route;

function parse(schema: Schema | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const result = validate(schema, value ?? {});
  if (!result.ok) throw new ApiFailure('bad_request', (result.error.details ?? []).map((detail) => `${where}.${detail}`));
  return result.value;
}

export function registerRoutes(app: FastifyInstance, routes: readonly Route[], authenticate: (request: FastifyRequest) => Promise<Caller>): void {
  for (const definition of routes) {
    app.route({
      method: definition.method,
      url: definition.url,
      ...(definition.bodyLimit && { bodyLimit: definition.bodyLimit }),
      handler: async (request, reply) => {
        const caller = definition.public ? (undefined as unknown as Caller) : await authenticate(request);
        const context = {
          caller,
          params: parse(definition.params, request.params, 'params'),
          query: parse(definition.query, request.query, 'query'),
          body: parse(definition.body, request.body, 'body'),
          request,
          reply,
        };
        const result = await definition.handler(context as never);
        reply.status(definition.status ?? 200);
        if (definition.contentType) return reply.type(definition.contentType).send(result);
        // The response schema is enforced too: nothing leaves that the table does not promise.
        return definition.response.parse(result);
      },
    });
  }
}

const toPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const jsonSchema = (schema: Schema, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' });

/** OpenAPI 3.1, generated from the same schemas that validate the requests. */
export function openApi(routes: readonly Route[], version: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    const params = r.params ? Object.keys((jsonSchema(r.params, 'input') as { properties?: object }).properties ?? {}) : [];
    const query = r.query ? Object.entries((jsonSchema(r.query, 'input') as { properties?: Record<string, object> }).properties ?? {}) : [];
    (paths[toPath(r.url)] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(r.public ? { security: [] } : {}),
      parameters: [...params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })), ...query.map(([name, schema]) => ({ name, in: 'query', schema }))],
      ...(r.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } }),
      responses: {
        [String(r.status ?? 200)]: { description: 'OK', content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(r.response, 'output') } } },
        default: { description: 'A typed error: { error: { code, message, details? } }' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Roomlink server', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

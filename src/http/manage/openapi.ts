import { z } from 'zod';
import type { ManageRoute } from './routes.js';
import { errorBody } from './schemas.js';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** The OpenAPI 3.1 document of the management API, generated from the same zod schemas the routes validate with. */
export function openApiDocument(issuer: string, routes: ManageRoute[]): object {
  const paths: Record<string, Record<string, unknown>> = {};
  const errors = Object.fromEntries(
    [
      ['400', 'Bad input; error_description names the field and the problem'],
      ['401', 'Missing, unknown, expired or revoked token'],
      ['403', 'The token\'s roles do not allow this, or the user did not sign in with 2FA'],
      ['404', 'No such tenant or account (also for another tenant\'s)'],
      ['409', 'The e-mail address is taken in that pool'],
      ['422', 'Not applicable to this account (e.g. requiring 2FA of a portal user)'],
    ].map(([status, description]) => [status, { description, content: { 'application/json': { schema: jsonSchema(errorBody, 'output') } } }]),
  );
  for (const route of routes) {
    const pathParams = Object.entries(route.params.shape).map(([name, schema]) => ({ name, in: 'path', required: true, schema: jsonSchema(schema as z.ZodType, 'input') }));
    const queryShape = route.query instanceof z.ZodObject ? route.query.shape : {};
    const queryParams = Object.entries(queryShape).map(([name, schema]) => ({ name, in: 'query', required: false, schema: jsonSchema(schema as z.ZodType, 'input') }));
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      security: [{ bearer: ['manage'] }],
      parameters: [...pathParams, ...queryParams],
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
      responses: {
        [String(route.status ?? 200)]: { description: 'OK', content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } },
        ...errors,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sleutel management API', version: '1' },
    servers: [{ url: `${issuer}/manage/v1` }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'oauth2',
          description: 'Access token for the resource {issuer}/manage/v1 with scope manage: service clients by client_credentials, staff by the code flow with 2FA.',
          flows: {
            clientCredentials: { tokenUrl: `${issuer}/token`, scopes: { manage: 'the management API' } },
            authorizationCode: { authorizationUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, scopes: { manage: 'the management API' } },
          },
        },
      },
    },
    paths,
  };
}

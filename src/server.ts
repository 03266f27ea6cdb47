import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLSchema } from 'graphql';
import type { Config } from './config';
import { createContext, type Context } from './graphql/context';
import { createFormatError } from './graphql/errors';
import { queryLimitRules } from './graphql/limits';
import type { Logger } from './logger';
import type { AccessTokenService } from './modules/auth/access-token.service';
import type { SessionService } from './modules/auth/session.service';
import type { SigningKeys } from './modules/auth/signing-keys';
import { operationGatePlugin, type OperationGateDeps } from './graphql/operation-gate.plugin';

export function createApolloServer(deps: {
  schema: GraphQLSchema;
  config: Config;
  logger: Logger;
  httpServer: http.Server;
  gate: OperationGateDeps;
}): ApolloServer<Context> {
  const { config } = deps;
  return new ApolloServer<Context>({
    schema: deps.schema,
    logger: deps.logger,
    formatError: createFormatError(deps.logger),
    includeStacktraceInErrorResponses: false,
    introspection: !config.isProduction,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT; Apollo's own handlers would stop it twice and re-raise the signal.
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    validationRules: queryLimitRules(config.graphql),
    parseOptions: { maxTokens: config.graphql.maxTokens },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: deps.httpServer, stopGracePeriodMillis: 10_000 }),
      ApolloServerPluginCacheControlDisabled(),
      config.isProduction
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
      operationGatePlugin(deps.gate),
    ],
  });
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return reject(new HttpError(413, `The request body exceeds ${limit} bytes.`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return; // refused: the rest is read and dropped so the 413 can be sent
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        reject(new HttpError(413, `The request body exceeds ${limit} bytes.`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The client's address: the socket's, or the one the configured number of trusted proxies saw. */
export function clientIp(req: http.IncomingMessage, trustedHops: number): string {
  let ip = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  if (trustedHops > 0 && typeof forwarded === 'string') {
    const chain = forwarded.split(',').map((s) => s.trim()).filter(Boolean);
    // Each trusted proxy appends the address it saw; anything further left is the client's to forge.
    ip = chain[chain.length - trustedHops] ?? chain[0] ?? ip;
  }
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

const requestError = (message: string, code = 'BAD_REQUEST') => ({ errors: [{ message, extensions: { code } }] });

export interface HttpDeps {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  apollo: ApolloServer<Context>;
  keys: SigningKeys;
  accessTokens: AccessTokenService;
  sessions: SessionService;
  isReady: () => Promise<boolean>;
}

/** Routes: /graphql, /healthz, /readyz and /.well-known/jwks.json. */
export function createRequestListener(deps: HttpDeps): http.RequestListener {
  const { config, logger } = deps;
  const jwks = JSON.stringify(deps.keys.publicJwks);

  async function graphql(req: http.IncomingMessage, res: http.ServerResponse, search: string, requestId: string) {
    const method = (req.method ?? 'GET').toUpperCase();
    let body: unknown;
    if (method === 'POST') {
      const raw = await readBody(req, config.graphql.maxBodyBytes);
      const isJson = /^application\/(graphql-response\+)?json\b/i.test(req.headers['content-type'] ?? '');
      if (isJson) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, 'The request body is not valid JSON.');
        }
      } else body = raw;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const meta = { ip: clientIp(req, config.trustProxyHops), userAgent: req.headers['user-agent'], requestId };
    const result = await deps.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search, body },
      context: async () => createContext(deps.orm.em.fork(), meta, req.headers.authorization, deps),
    });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  return (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    res.setHeader('access-control-allow-origin', '*');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handle = async () => {
      switch (url.pathname) {
        case '/graphql':
          if (req.method === 'OPTIONS') {
            res.writeHead(204, {
              'access-control-allow-methods': 'GET, POST, OPTIONS',
              'access-control-allow-headers': 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name',
              'access-control-max-age': '600',
            });
            return res.end();
          }
          return graphql(req, res, url.search, requestId);
        case '/healthz':
          return sendJson(res, 200, { status: 'ok' });
        case '/readyz': {
          const ready = await deps.isReady();
          return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' });
        }
        case '/.well-known/jwks.json':
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
          return res.end(jwks);
        case '/':
          res.writeHead(302, { location: '/graphql' });
          return res.end();
        default:
          return sendJson(res, 404, requestError('Not found.', 'NOT_FOUND'));
      }
    };
    handle().catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) {
        return sendJson(res, err.status, requestError(err.message), err.status === 413 ? { connection: 'close' } : {});
      }
      logger.error({ err, requestId }, 'unhandled HTTP error');
      sendJson(res, 500, requestError('Internal server error.', 'INTERNAL_SERVER_ERROR'));
    });
  };
}

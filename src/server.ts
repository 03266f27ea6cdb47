import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLSchema } from 'graphql';
import type { Config } from './config';
import {
  applyCors,
  appendVary,
  clientIp,
  CORS_PREFLIGHT,
  HttpError,
  PAGE_ONLY_HEADERS,
  parseTarget,
  readBody,
  requestError,
  securityHeaders,
  sendJson,
} from './http/edge';
import type { PreparedSql } from './db/pg-pool';
import { createContext, type Context } from './graphql/context';
import { createFormatError } from './graphql/errors';
import { queryLimitRules, variablePageCost } from './graphql/limits';
import type { Logger } from './logger';
import type { AccessTokenService } from './modules/auth/access-token.service';
import type { SessionService } from './modules/auth/session.service';
import type { SigningKeys } from './modules/auth/signing-keys';
import type { EdgeGate } from './modules/rate-limit/edge-block';
import { operationGatePlugin, type OperationGateDeps } from './graphql/operation-gate.plugin';

export function createApolloServer(deps: {
  schema: GraphQLSchema;
  config: Config;
  logger: Logger;
  httpServer: http.Server;
  gate: OperationGateDeps;
}): ApolloServer<Context> {
  const { config } = deps;
  refuseTunnels(deps.httpServer, config);
  return new ApolloServer<Context>({
    schema: deps.schema,
    logger: deps.logger,
    formatError: createFormatError(deps.logger, { hideSuggestions: config.isProduction }),
    includeStacktraceInErrorResponses: false,
    introspection: !config.isProduction,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT; Apollo's own handlers would stop it twice and re-raise the signal.
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    // No automatic persisted queries: such requests answer PERSISTED_QUERY_NOT_SUPPORTED, and clients send the query.
    persistedQueries: false,
    validationRules: queryLimitRules(config.graphql),
    parseOptions: { maxTokens: config.graphql.maxTokens },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: deps.httpServer, stopGracePeriodMillis: 10_000 }),
      ApolloServerPluginCacheControlDisabled(),
      // Not a federated subgraph: Apollo would otherwise install the trace plugin and ask it on every request.
      ApolloServerPluginInlineTraceDisabled(),
      config.isProduction
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
      operationGatePlugin({ ...deps.gate, pageCost: variablePageCost(config.graphql) }),
    ],
  });
}

/**
 * CONNECT asks for a tunnel, which node hands to a 'connect' listener or else drops without an
 * answer: it gets a 405 like any other method this server does not serve.
 */
function refuseTunnels(httpServer: http.Server, config: Config) {
  const headers = Object.entries({ allow: 'GET, POST, OPTIONS', 'content-length': '0', connection: 'close', ...securityHeaders(config) });
  const answer = `HTTP/1.1 405 Method Not Allowed\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
  httpServer.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(answer);
  });
}

export interface HttpDeps {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  apollo: ApolloServer<Context>;
  keys: SigningKeys;
  accessTokens: AccessTokenService;
  sessions: SessionService;
  /** The session check's prepared statements. */
  sql: PreparedSql;
  /** Refuses clients over an ip limit before any GraphQL work. */
  edgeGate: EdgeGate;
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
    const ip = clientIp(req, config.trustProxyHops);
    // A client over an ip limit is refused here, before Apollo parses, validates and refuses it.
    const pending = deps.edgeGate.refuse(ip, body); // null at once for a client that is not blocked
    const refusal = pending && (await pending);
    if (refusal) return sendJson(res, 429, refusal.body, { 'retry-after': String(refusal.retryAfter) });
    const headers = new HeaderMap();
    const incoming = req.headers;
    for (const key in incoming) {
      const value = incoming[key];
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const meta = { ip, userAgent: req.headers['user-agent'], requestId };
    const result = await deps.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search, body },
      context: async () => createContext(deps.orm.em, meta, req.headers.authorization, deps),
    });
    for (const [key, value] of result.headers) {
      if (key === 'cache-control') continue; // no-store stays, whatever Apollo suggests
      if (key === 'vary') appendVary(res, value);
      else res.setHeader(key, value);
    }
    if (/^text\/html\b/i.test(result.headers.get('content-type') ?? '')) for (const name of PAGE_ONLY_HEADERS) res.removeHeader(name);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  const security = Object.entries(securityHeaders(config));

  async function route(req: http.IncomingMessage, res: http.ServerResponse, requestId: string) {
    for (const [name, value] of security) res.setHeader(name, value);
    const corsAllowed = applyCors(req, res, config.cors.origins);
    const target = parseTarget(req.url ?? '/');
    if (!target) throw new HttpError(400, 'The request target is not a path.');
    switch (target.pathname) {
      case '/graphql':
        res.setHeader('cache-control', 'no-store'); // answers carry tokens and personal data
        if (req.method === 'OPTIONS') {
          res.writeHead(204, corsAllowed ? CORS_PREFLIGHT : {});
          return res.end();
        }
        return graphql(req, res, target.search, requestId);
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
  }

  // Everything runs inside the promise, so no request, however malformed, can throw past the catch.
  return (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    route(req, res, requestId).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) {
        return sendJson(res, err.status, requestError(err.message), err.status === 413 ? { connection: 'close' } : {});
      }
      logger.error({ err, requestId }, 'unhandled HTTP error');
      sendJson(res, 500, requestError('Internal server error.', 'INTERNAL_SERVER_ERROR'));
    });
  };
}

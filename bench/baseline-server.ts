/**
 * The hand-written baseline for the `me` benchmark: node:http + graphql-js + pg, doing the work
 * Posture does for `me` and nothing more. Run as a child process by bench/run.ts.
 */
import http from 'node:http';
import {
  GraphQLBoolean,
  GraphQLID,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  execute,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLError,
} from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import pg from 'pg';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded';
import { createLogger } from '../src/logger';

interface UserRow {
  id: string;
  email: string;
  username: string;
  name: string;
  email_verified_at: Date | null;
  is_superuser: boolean;
  created_at: Date;
}

interface Ctx {
  authorization: string | undefined;
}

const env = process.env;
const keys = JSON.parse(env.JWT_SIGNING_KEYS ?? '') as JSONWebKeySet;
// Only public members, as Posture's JWKS: jose rejects verifying with a private JWK.
const jwks = createLocalJWKSet({ keys: keys.keys.map(({ kty, crv, x, y, alg, kid }) => ({ kty, crv, x, y, alg, kid })) });
const issuer = env.JWT_ISSUER ?? '';
const audience = env.JWT_AUDIENCE ?? 'posture';

// Live session and its active user, in one query.
const ME_SQL = `select u.id, u.email, u.username, u.name, u.email_verified_at, u.is_superuser, u.created_at
  from sessions s join users u on u.id = s.user_id
 where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now()
   and u.status = 'active' and u.deleted_at is null`;

let pool: pg.Pool;

// Verified tokens until they expire, as Posture keeps them: the same work saved on both sides.
const verified = new Map<string, { sid: string; sub: string; exp: number }>();

async function claimsOf(token: string): Promise<{ sid: string; sub: string } | null> {
  const hit = verified.get(token);
  if (hit && hit.exp > Date.now() / 1000) return hit;
  try {
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ['EdDSA', 'ES256'],
      issuer,
      audience,
      typ: 'at+jwt',
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
      clockTolerance: 5,
    });
    const claims = { sid: String(payload.sid), sub: String(payload.sub), exp: payload.exp! + 5 };
    if (verified.size >= 10_000) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
    return claims;
  } catch {
    return null;
  }
}

async function viewer(ctx: Ctx): Promise<UserRow | null> {
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(ctx.authorization ?? '');
  const claims = match ? await claimsOf(match[1]!) : null;
  if (!claims) return null;
  const { rows } = await pool.query<UserRow>(ME_SQL, [claims.sid, claims.sub]);
  return rows[0] ?? null;
}

const User = new GraphQLObjectType<UserRow>({
  name: 'User',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    email: { type: new GraphQLNonNull(GraphQLString) },
    username: { type: new GraphQLNonNull(GraphQLString) },
    name: { type: new GraphQLNonNull(GraphQLString) },
    emailVerified: { type: new GraphQLNonNull(GraphQLBoolean), resolve: (u) => u.email_verified_at !== null },
    isSuperuser: { type: new GraphQLNonNull(GraphQLBoolean), resolve: (u) => u.is_superuser },
    createdAt: { type: new GraphQLNonNull(DateTimeResolver), resolve: (u) => u.created_at },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, Ctx>({
    name: 'Query',
    fields: { me: { type: User, resolve: (_root, _args, ctx) => viewer(ctx) } },
  }),
});

// Parsed and validated once per query text, as Apollo Server's document cache does.
const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
function prepare(query: string): DocumentNode | readonly GraphQLError[] {
  let doc = documents.get(query);
  if (!doc) {
    try {
      const parsed = parse(query);
      const errors = validate(schema, parsed, specifiedRules);
      doc = errors.length ? errors : parsed;
    } catch (err) {
      doc = [err as GraphQLError];
    }
    if (documents.size < 1000) documents.set(query, doc);
  }
  return doc;
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  if (req.url === '/readyz') return send(res, 200, { status: 'ready' });
  if (req.url !== '/graphql' || req.method !== 'POST') return send(res, 404, { errors: [{ message: 'Not found.' }] });
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body: { query?: unknown; variables?: Record<string, unknown>; operationName?: string };
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return send(res, 400, { errors: [{ message: 'The request body is not valid JSON.' }] });
  }
  if (typeof body.query !== 'string') return send(res, 400, { errors: [{ message: 'query is required.' }] });
  const doc = prepare(body.query);
  if (Array.isArray(doc)) return send(res, 400, { errors: doc.map((e) => ({ message: e.message })) });
  const result = await execute({
    schema,
    document: doc as DocumentNode,
    variableValues: body.variables,
    operationName: body.operationName,
    contextValue: { authorization: req.headers.authorization } satisfies Ctx,
  });
  send(res, 200, result);
}

async function main() {
  let embedded: EmbeddedDatabase | undefined;
  if (env.DATABASE_URL) {
    pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DATABASE_POOL_MAX ?? 10) });
  } else {
    // Same arrangement as Posture without DATABASE_URL: PGlite in-process, one connection.
    embedded = await startEmbeddedDatabase(env.DATA_DIR ?? '', createLogger('warn'));
    pool = new pg.Pool({ connectionString: embedded.url, max: 1 });
  }
  const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, { errors: [{ message: 'Internal server error.' }] });
    });
  });
  server.listen(Number(env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void pool
      .end()
      .then(() => embedded?.stop())
      .then(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error('baseline failed to start:', err);
  process.exit(1);
});

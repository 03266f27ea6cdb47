/**
 * The hand-written baseline for the `me` and template-read benchmarks: node:http + graphql-js + pg,
 * doing the work Posture does for `me` and `assessmentTemplate` and nothing more. Run as a child
 * process by bench/run.ts.
 */
import http from 'node:http';
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  GraphQLList,
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
  /** Set by assessmentTemplate before its tree resolves: whether option points show. */
  staff?: boolean;
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


// ---- assessmentTemplate: the same field names and types as Posture's schema, read from pg with
// plain SQL on every request (no cache across requests): the template row by slug, then its
// categories, questions and options, three statements in parallel. Named statements, as Posture's
// catalog uses: each connection parses and plans them once.

interface OptionRow {
  id: string;
  questionId: string;
  label: string;
  points: number;
  order: number;
}

interface QuestionRow {
  id: string;
  categoryId: string;
  text: string;
  helpText: string | null;
  kind: 'SINGLE' | 'MULTIPLE';
  weight: number;
  order: number;
  allowsNotApplicable: boolean;
  nist: string[];
  cis: string[];
  options: OptionRow[];
}

interface CategoryRow {
  id: string;
  name: string;
  description: string | null;
  weight: number;
  order: number;
  questions: QuestionRow[];
}

interface TemplateRow {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  locale: string;
  version: number;
  categories: CategoryRow[];
}

const TEMPLATE_SQL = {
  latest: {
    name: 'baseline_template_latest',
    text: `select id, slug, name, description, locale, version from assessment_templates
            where slug = $1 and status = 'PUBLISHED' order by version desc limit 1`,
  },
  version: {
    name: 'baseline_template_version',
    text: `select id, slug, name, description, locale, version from assessment_templates
            where slug = $1 and version = $2 and status = 'PUBLISHED'`,
  },
  categories: {
    name: 'baseline_template_categories',
    text: `select id, name, description, weight, position as "order" from template_categories where template_id = $1 order by position`,
  },
  questions: {
    name: 'baseline_template_questions',
    text: `select q.id, q.category_id as "categoryId", q.text, q.help_text as "helpText", q.kind, q.weight, q.position as "order",
                  q.allows_not_applicable as "allowsNotApplicable", q.nist, q.cis
             from template_questions q join template_categories c on c.id = q.category_id
            where c.template_id = $1 order by q.position`,
  },
  options: {
    name: 'baseline_template_options',
    text: `select o.id, o.question_id as "questionId", o.label, o.points, o.position as "order"
             from question_options o join template_questions q on q.id = o.question_id join template_categories c on c.id = q.category_id
            where c.template_id = $1 order by o.position`,
  },
};

async function templateBySlug(slug: string, version: number | null | undefined): Promise<TemplateRow | null> {
  if (slug.length > 64) return null;
  const { rows } =
    version === null || version === undefined
      ? await pool.query<TemplateRow>({ ...TEMPLATE_SQL.latest, values: [slug] })
      : await pool.query<TemplateRow>({ ...TEMPLATE_SQL.version, values: [slug, version] });
  const template = rows[0];
  if (!template) return null;
  const [categories, questions, options] = await Promise.all([
    pool.query<CategoryRow>({ ...TEMPLATE_SQL.categories, values: [template.id] }),
    pool.query<QuestionRow>({ ...TEMPLATE_SQL.questions, values: [template.id] }),
    pool.query<OptionRow>({ ...TEMPLATE_SQL.options, values: [template.id] }),
  ]);
  // Rows come in position order, so each list fills in order.
  const byQuestion = new Map<string, OptionRow[]>();
  for (const o of options.rows) {
    let list = byQuestion.get(o.questionId);
    if (!list) byQuestion.set(o.questionId, (list = []));
    list.push(o);
  }
  const byCategory = new Map<string, QuestionRow[]>();
  for (const q of questions.rows) {
    q.options = byQuestion.get(q.id) ?? [];
    let list = byCategory.get(q.categoryId);
    if (!list) byCategory.set(q.categoryId, (list = []));
    list.push(q);
  }
  for (const c of categories.rows) c.questions = byCategory.get(c.id) ?? [];
  template.categories = categories.rows;
  return template;
}

const QuestionKind = new GraphQLEnumType({ name: 'QuestionKind', values: { MULTIPLE: {}, SINGLE: {} } });

const QuestionOption = new GraphQLObjectType<OptionRow, Ctx>({
  name: 'QuestionOption',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    label: { type: new GraphQLNonNull(GraphQLString) },
    order: { type: new GraphQLNonNull(GraphQLInt) },
    // An answer key: staff only, as in Posture; the bench asks anonymously, so null.
    points: { type: GraphQLFloat, resolve: (o, _args, ctx) => (ctx.staff ? o.points : null) },
  },
});

const Question = new GraphQLObjectType<QuestionRow, Ctx>({
  name: 'Question',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    text: { type: new GraphQLNonNull(GraphQLString) },
    helpText: { type: GraphQLString },
    kind: { type: new GraphQLNonNull(QuestionKind) },
    weight: { type: new GraphQLNonNull(GraphQLFloat) },
    order: { type: new GraphQLNonNull(GraphQLInt) },
    allowsNotApplicable: { type: new GraphQLNonNull(GraphQLBoolean) },
    nist: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))) },
    cis: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))) },
    references: {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))),
      resolve: (q) => [...q.nist, ...q.cis.map((id) => `CIS ${id}`)],
    },
    options: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(QuestionOption))) },
  },
});

const Category = new GraphQLObjectType<CategoryRow, Ctx>({
  name: 'Category',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    name: { type: new GraphQLNonNull(GraphQLString) },
    description: { type: GraphQLString },
    weight: { type: new GraphQLNonNull(GraphQLFloat) },
    order: { type: new GraphQLNonNull(GraphQLInt) },
    questions: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Question))) },
  },
});

const AssessmentTemplate = new GraphQLObjectType<TemplateRow, Ctx>({
  name: 'AssessmentTemplate',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    slug: { type: new GraphQLNonNull(GraphQLString) },
    name: { type: new GraphQLNonNull(GraphQLString) },
    description: { type: GraphQLString },
    locale: { type: new GraphQLNonNull(GraphQLString) },
    version: { type: new GraphQLNonNull(GraphQLInt) },
    categories: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Category))) },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, Ctx>({
    name: 'Query',
    fields: {
      me: { type: User, resolve: (_root, _args, ctx) => viewer(ctx) },
      assessmentTemplate: {
        type: AssessmentTemplate,
        args: { slug: { type: new GraphQLNonNull(GraphQLString) }, version: { type: GraphQLInt } },
        async resolve(_root, args: { slug: string; version?: number | null }, ctx) {
          // Who asks decides whether option points show: settled before the tree resolves (no SQL when anonymous).
          ctx.staff = ctx.authorization ? ((await viewer(ctx).catch(() => null))?.is_superuser ?? false) : false;
          return templateBySlug(args.slug, args.version);
        },
      },
    },
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

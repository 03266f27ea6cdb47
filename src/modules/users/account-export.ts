import type { EntityManager } from '@mikro-orm/postgresql';

type Db = Pick<EntityManager, 'execute'>;
type Row = Record<string, unknown>;

// Raw rows give timestamps as strings (MikroORM's pg setup) and, through knex, jsonb as text or objects.
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string | Date).toISOString());
const json = (v: unknown) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : (v ?? null));

/** Renames a row's snake_case columns to camelCase, turning timestamps into ISO strings and jsonb into values. */
function plain(row: Row, dates: readonly string[] = [], jsons: readonly string[] = []): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    const name = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[name] = dates.includes(key) ? iso(value) : jsons.includes(key) ? json(value) : value;
  }
  return out;
}

/**
 * Everything stored about an account, for its owner (exportMyData): the account (no password
 * hash: only whether there is one), profile, sessions (no refresh tokens), emailed tokens (no token
 * or code, only what they were for), the provider logins linked to it, assessments (deleted ones included; no share token), the
 * lead forms it converted from, and the audit events about it or by it. Of an event by it about
 * someone else, the changes are left out: they are that person's data.
 */
export async function exportAccountData(db: Db, userId: string, now: Date): Promise<Row> {
  const [[account], [profile], sessions, tokens, identities, assessments, leads, events] = await Promise.all([
    db.execute<Row[]>(
      `select u.id, u.email, u.username, u.name, u.avatar_url, u.email_verified_at, u.is_superuser, u.status, u.deleted_at,
              u.tier_id, t.name as tier_name, (u.password_hash is not null) as has_password, u.totp_enabled_at, u.created_at, u.updated_at
         from users u left join tiers t on t.id = u.tier_id where u.id = ?`,
      [userId],
    ),
    db.execute<Row[]>(
      `select full_name, company_name, job_title, phone, company_size, industry, locale, assessment_limit, created_at, updated_at
         from profiles where user_id = ?`,
      [userId],
    ),
    db.execute<Row[]>(
      `select id, scope, created_at, last_used_at, expires_at, revoked_at, revoked_reason, user_agent, ip
         from sessions where user_id = ? order by created_at`,
      [userId],
    ),
    db.execute<Row[]>(
      `select purpose, email, created_at, expires_at, used_at from one_time_tokens where user_id = ? order by created_at`,
      [userId],
    ),
    db.execute<Row[]>(`select provider, subject, email, linked_at from user_identities where user_id = ? order by linked_at`, [userId]),
    db.execute<Row[]>(
      `select a.id, t.slug as template_slug, t.version as template_version, t.name as template_name, a.status, a.answers,
              a.total_score, a.max_possible_score, a.percentage_score, a.risk_level, a.category_scores, a.recommendations,
              a.insights, a.started_at, a.completed_at, a.deleted_at, (a.share_token_hash is not null) as shared, a.attestation
         from assessments a join assessment_templates t on t.id = a.template_id where a.user_id = ? order by a.created_at`,
      [userId],
    ),
    db.execute<Row[]>(
      `select id, email, full_name, company_name, job_title, phone, company_size, industry, source, locale,
              marketing_consent, marketing_consent_at, ip, created_at, converted_at
         from leads where converted_user_id = ? order by created_at`,
      [userId],
    ),
    db.execute<Row[]>(
      `select id, created_at, action, actor_id, target_type, target_id, ip, user_agent,
              case when target_id = ? then changes end as changes
         from audit_events where actor_id = ? or target_id = ? order by created_at, id`,
      [userId, userId, userId],
    ),
  ]);
  const dates = ['created_at', 'updated_at', 'email_verified_at', 'totp_enabled_at', 'deleted_at', 'last_used_at', 'expires_at', 'revoked_at', 'used_at'];
  return {
    exportedAt: now.toISOString(),
    account: account ? plain(account, dates) : null,
    profile: profile ? plain(profile, dates) : null,
    sessions: sessions.map((r) => plain(r, dates)),
    emailTokens: tokens.map((r) => plain(r, dates)),
    linkedIdentities: identities.map((r) => plain(r, ['linked_at'])),
    assessments: assessments.map((r) =>
      plain(r, ['started_at', 'completed_at', 'deleted_at'], ['answers', 'category_scores', 'recommendations']),
    ),
    leads: leads.map((r) => plain(r, ['marketing_consent_at', 'created_at', 'converted_at'])),
    auditEvents: events.map((r) => plain(r, ['created_at'], ['changes'])),
  };
}

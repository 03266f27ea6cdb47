import { auditRows } from '../support/audit';
import { CHEAP_HASHING, relaxedLimits, type TestApp } from '../support/test-app';
import { ASSESSMENT_TEST_ENV, RELAXED_LEAD_LIMITS } from '../assessments/support';

/** Limits raised for these files (every request comes from one IP, and a few users do many calls). */
const RELAXED_ACCOUNT_LIMITS = [
  'confirmEmailChange.ip=100000/60',
  'user.ip=100000/60',
  'updateMe.user=1000/60',
  'deleteMe.user=1000/60',
  'exportMyData.user=1000/60',
  'revokeSession.user=1000/60',
  'adminCreateUser.user=1000/60',
  'adminUpdateUser.user=1000/60',
  'adminDeleteUser.user=1000/60',
  'adminRestoreUser.user=1000/60',
  'adminRevokeSessions.user=1000/60',
];

export const ACCOUNT_TEST_ENV = {
  ...ASSESSMENT_TEST_ENV,
  RATE_LIMITS: relaxedLimits(...RELAXED_LEAD_LIMITS, ...RELAXED_ACCOUNT_LIMITS),
  // Cheap hashing: these files sign many accounts up.
  ...CHEAP_HASHING,
};

export const USER_FIELDS = 'id email username name avatarUrl emailVerified isSuperuser';
export const PUBLIC_USER = `query ($u: String!) { user(username: $u) { username name avatarUrl } }`;
export const UPDATE_ME = `mutation ($input: UpdateMeInput!) { updateMe(input: $input) { ${USER_FIELDS} } }`;
export const CONFIRM_EMAIL = `mutation ($t: String!) { confirmEmailChange(token: $t) { ${USER_FIELDS} } }`;
export const DELETE_ME = `mutation ($p: String) { deleteMe(password: $p) }`;
export const MY_SESSIONS = `{ mySessions { id createdAt lastUsedAt userAgent ip current } }`;
export const REVOKE_SESSION = `mutation ($id: ID!) { revokeSession(id: $id) }`;
export const EXPORT = `{ exportMyData }`;

export const USERS = `query ($first: Int, $after: String, $filter: UserFilter) {
  users(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ${USER_FIELDS} } } } }`;
export const ADMIN_USER = `query ($id: ID!) { adminUser(id: $id) { status deletedAt lastLogInAt user { ${USER_FIELDS} }
  tier { id name assessmentLimit } profile { fullName assessmentLimit assessmentsRemaining }
  sessions { id createdAt userAgent ip current } assessments(first: 10) { totalCount edges { node { id status } } } } }`;
export const CREATE_USER = `mutation ($input: AdminCreateUserInput!) { adminCreateUser(input: $input) { ${USER_FIELDS} } }`;
export const UPDATE_USER = `mutation ($id: ID!, $input: AdminUpdateUserInput!) { adminUpdateUser(id: $id, input: $input) { ${USER_FIELDS} } }`;
export const DELETE_USER = `mutation ($id: ID!, $hard: Boolean) { adminDeleteUser(id: $id, hard: $hard) }`;
export const RESTORE_USER = `mutation ($id: ID!) { adminRestoreUser(id: $id) { ${USER_FIELDS} } }`;
export const REVOKE_SESSIONS = `mutation ($id: ID!) { adminRevokeSessions(id: $id) }`;
export const RESET_PASSWORD = `mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) }`;

/** The rows of `table` matching `where`, counted. */
export const countRows = async (t: TestApp, table: string, where = 'true', params: unknown[] = []) =>
  Number((await t.sql<{ n: string }>(`select count(*) as n from ${table} where ${where}`, params))[0]!.n);

/** The audit events with `action` about `targetId`, oldest first. */
export const auditEvents = (t: TestApp, action: string, targetId: string) => auditRows(t, { action, targetId });

/** A users row, as stored. */
export const userRow = async (t: TestApp, id: string) =>
  (await t.sql<Record<string, any>>(`select * from users where id = ?`, [id]))[0];

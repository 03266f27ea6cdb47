import DataLoader from 'dataloader';
import type { Clock } from '../../common/clock';
import type { PreparedSql, PreparedStatement } from '../../db/pg-pool';
import type { User } from '../users/user.entity';
import { liveUserSql } from '../users/user.rules';
import { userSnapshots, type UserRow, type UserSnapshots } from '../users/user.snapshot';

/** An access token's session and account, both already known to be UUIDs. */
export interface SessionKey {
  sessionId: string;
  userId: string;
}

/** Sessions checked in one statement, at most. */
const MAX_BATCH = 100;

/**
 * The session check of nearly every request, coalesced: the checks that arrive in one turn of the
 * event loop (one per request, from every connection that had a request ready) run as one prepared
 * statement, after the turn's I/O callbacks. Nothing is cached: each check reads the database after
 * its request arrived, so a revocation or an account change counts from the next statement on. A
 * loaded server saves the client-side cost of a statement, and its two system calls, per request
 * but one; an idle one waits for nothing but the end of the turn.
 */
export class LiveSessionUsers {
  private readonly snapshots: UserSnapshots;
  private readonly statements: { one: PreparedStatement; many: PreparedStatement };
  private readonly loader: DataLoader<SessionKey, Readonly<User> | null>;

  constructor(
    private readonly db: PreparedSql,
    private readonly clock: Clock,
  ) {
    this.snapshots = userSnapshots(db.metadata);
    this.statements = statementsFor(this.snapshots.selectJson('u'));
    this.loader = new DataLoader((keys) => this.check(keys), {
      cache: false,
      maxBatchSize: MAX_BATCH,
      // After the I/O callbacks of this turn (setImmediate), not at the next tick: a tick ends with
      // the callback of one connection, so it would hold one request's check.
      batchScheduleFn: (run) => setImmediate(run),
    });
  }

  /** The account of a live session whose user is `userId`; null when the session or account is not live. */
  load(key: SessionKey): Promise<Readonly<User> | null> {
    return this.loader.load(key);
  }

  private async check(keys: readonly SessionKey[]): Promise<Array<Readonly<User> | null>> {
    const { one, many } = this.statements;
    // The time as epoch milliseconds: pg formats a number in a fraction of what a Date costs it.
    const now = this.clock.now().getTime();
    // Alone (an idle server), the plain statement: PostgreSQL plans it more cheaply than the unnest.
    const rows =
      keys.length === 1
        ? await this.db.query<Row>(one, [keys[0]!.sessionId, keys[0]!.userId, now])
        : await this.db.query<Row>(many, [keys.map((k) => k.sessionId), keys.map((k) => k.userId), now]);
    const live = new Map(rows.map((r) => [`${r.sessionId}|${r.user.id}`, r.user]));
    return keys.map((k) => {
      const row = live.get(`${k.sessionId}|${k.userId}`);
      return row ? this.snapshots.read(row) : null;
    });
  }
}

interface Row {
  sessionId: string;
  user: UserRow;
}

/** The check for one session, and for many at once: the same conditions, the user as one json column. */
function statementsFor(userJson: string): { one: PreparedStatement; many: PreparedStatement } {
  const live = `s.revoked_at is null and s.expires_at > to_timestamp($3::float8 / 1000) and ${liveUserSql('u')}`;
  return {
    one: {
      name: 'posture_live_session_user',
      text: `select s.id as "sessionId", ${userJson} as "user"
               from sessions s join users u on u.id = s.user_id
              where s.id = $1 and s.user_id = $2 and ${live}`,
    },
    many: {
      name: 'posture_live_session_users',
      text: `select s.id as "sessionId", ${userJson} as "user"
               from unnest($1::uuid[], $2::uuid[]) as k(session_id, user_id)
               join sessions s on s.id = k.session_id and s.user_id = k.user_id
               join users u on u.id = s.user_id
              where ${live}`,
    },
  };
}

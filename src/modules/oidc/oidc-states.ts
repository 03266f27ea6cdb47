import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Clock } from '../../common/clock';
import { openWith, sealWith, sha256 } from '../../common/crypto';

/** How long a started authorization may take to come back. */
export const STATE_TTL_SECONDS = 600;
const SEAL_PURPOSE = 'posture oidc state v1';

/** A started flow's secrets, known in full only to whoever holds the state. */
export interface FlowSecrets {
  state: string;
  nonce: string;
  verifier: string;
}

/** A state consumed by its callback: what the code exchange needs. */
export interface ConsumedState {
  redirectUri: string;
  nonce: string;
  verifier: string;
}

/** Who started a link: the state then only completes a link from that same session. */
export interface StateBinding {
  userId: string;
  sessionId: string;
}

/**
 * The states of authorizations under way: random, single-use, 10 minutes. Stored as the state's
 * SHA-256, with the nonce and PKCE verifier sealed under the state itself (HKDF → AES-GCM).
 */
export class OidcStates {
  constructor(private readonly clock: Clock) {}

  async issue(em: EntityManager, flow: { provider: string; redirectUri: string; binding: StateBinding | null }): Promise<FlowSecrets> {
    const secrets: FlowSecrets = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
    const now = this.clock.now();
    const sealed = sealWith(secrets.state, SEAL_PURPOSE, JSON.stringify({ nonce: secrets.nonce, verifier: secrets.verifier }));
    await em.execute(
      `insert into oidc_login_states (id, state_hash, provider, redirect_uri, user_id, session_id, sealed, created_at, expires_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [randomUUID(), sha256(secrets.state), flow.provider, flow.redirectUri, flow.binding?.userId ?? null, flow.binding?.sessionId ?? null, sealed, now, new Date(now.getTime() + STATE_TTL_SECONDS * 1000)],
    );
    return secrets;
  }

  /**
   * Spends the state in one conditional UPDATE, committed before the code is exchanged, so that of
   * any number of uses one gets it. Null when it is unknown, used, expired, for another provider,
   * or (with `binding`) not started by that session.
   */
  async consume(em: EntityManager, state: string, provider: string, binding: StateBinding | null): Promise<ConsumedState | null> {
    if (state.length < 16 || state.length > 256) return null;
    const now = this.clock.now();
    const bound = binding ? ' and user_id = ? and session_id = ?' : '';
    const [row] = await em.execute<Array<{ redirect_uri: string; sealed: string }>>(
      `update oidc_login_states set used_at = ?
        where state_hash = ? and provider = ? and used_at is null and expires_at > ?${bound}
        returning redirect_uri, sealed`,
      [now, sha256(state), provider, now, ...(binding ? [binding.userId, binding.sessionId] : [])],
    );
    if (!row) return null;
    const opened = openWith(state, SEAL_PURPOSE, row.sealed);
    if (!opened) return null;
    const { nonce, verifier } = JSON.parse(opened) as { nonce: string; verifier: string };
    return { redirectUri: row.redirect_uri, nonce, verifier };
  }
}

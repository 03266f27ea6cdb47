import type { SigningKeys } from '../auth/signing-keys';
import type { RiskLevel } from './template.types';

export const ATTESTATION_TYPE = 'posture-attestation+jwt';

export interface AttestedResult {
  assessmentId: string;
  templateSlug: string;
  templateVersion: number;
  percentageScore: number;
  riskLevel: RiskLevel;
  completedAt: Date;
}

/**
 * A result, signed once when it is scored: a compact JWS with the server's signing key (its `kid`
 * in the JWKS), so that a partner shown a result can check it offline. Retired keys stay in the
 * JWKS (JWT_SIGNING_KEYS keeps them after the active one), so rotating does not void attestations.
 */
export function signAttestation(keys: SigningKeys, issuer: string, result: AttestedResult, now: Date): string {
  return keys.signCompact(ATTESTATION_TYPE, {
    iss: issuer,
    sub: result.assessmentId,
    iat: Math.floor(now.getTime() / 1000),
    template: result.templateSlug,
    templateVersion: result.templateVersion,
    percentageScore: result.percentageScore,
    riskLevel: result.riskLevel,
    completedAt: result.completedAt.toISOString(),
  });
}

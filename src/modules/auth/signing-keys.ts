import { createPrivateKey, hkdfSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import type { Config } from '../../config';
import type { Logger } from '../../logger';

export const SUPPORTED_ALGORITHMS = ['EdDSA', 'ES256'] as const;
type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

/** Generates a new Ed25519 signing key as a private JWK with `kid` and `alg`. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'EdDSA', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

function publicPart(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  delete copy.key_ops;
  return { ...copy, use: 'sig' } as JWK;
}

function parseKeys(raw: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('JWT_SIGNING_KEYS is not valid JSON (expected a JWK set or an array of JWKs)');
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as JSONWebKeySet | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('JWT_SIGNING_KEYS holds no keys');
  for (const key of keys as JWK[]) {
    if (!key.kid) throw new Error('JWT_SIGNING_KEYS: every key needs a "kid"');
    if (!SUPPORTED_ALGORITHMS.includes(key.alg as Algorithm)) {
      throw new Error(`JWT_SIGNING_KEYS: key ${key.kid} has alg ${key.alg}; use ${SUPPORTED_ALGORITHMS.join(' or ')}`);
    }
  }
  return keys as JWK[];
}

/**
 * The signing key and every key still accepted. The first private key signs; the others (private
 * or public) only verify, so tokens signed before a rotation stay valid until they expire.
 */
export class SigningKeys {
  private constructor(
    /** The private key as node:crypto takes it (see AccessTokenService.sign). */
    readonly active: { kid: string; alg: Algorithm; key: KeyObject },
    readonly publicJwks: JSONWebKeySet,
    private readonly activePrivatePart: Buffer,
  ) {}

  readonly resolve = createLocalJWKSet(this.publicJwks);
  private readonly headers = new Map<string, string>();

  /**
   * A compact JWS of `claims` signed with the active key, synchronously with node:crypto: jose signs
   * through WebCrypto, which costs about three times as much and a trip through libuv's thread pool.
   * jose verifies what this signs (and partners do, through the JWKS), so the two cannot drift apart.
   */
  signCompact(typ: string, claims: object): string {
    const { alg, kid, key } = this.active;
    let header = this.headers.get(typ);
    if (header === undefined) {
      header = Buffer.from(JSON.stringify({ alg, kid, typ })).toString('base64url');
      this.headers.set(typ, header);
    }
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    // EdDSA hashes internally; ES256 is SHA-256 with the signature as r‖s (JWS, RFC 7518 §3.4).
    const signature = sign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  static async fromJwks(keys: JWK[]): Promise<SigningKeys> {
    const signer = keys.find((k) => typeof k.d === 'string');
    if (!signer) throw new Error('JWT_SIGNING_KEYS: the first signing key must include its private part');
    const key = createPrivateKey({ key: signer as unknown as JsonWebKey, format: 'jwk' });
    return new SigningKeys(
      { kid: signer.kid!, alg: signer.alg as Algorithm, key },
      { keys: keys.map(publicPart) },
      Buffer.from(signer.d as string, 'base64url'),
    );
  }

  /**
   * A 32-byte secret for one purpose, derived (HKDF-SHA-256) from the active key's private part: it
   * needs no setting of its own and is never stored. It changes when the active key is rotated.
   */
  deriveSecret(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.activePrivatePart, Buffer.alloc(0), `posture/${purpose}`, 32));
  }

  /** Configured keys; otherwise (never in production) a key generated once and kept in DATA_DIR. */
  static async load(config: Pick<Config, 'jwt' | 'dataDir' | 'isProduction'>, logger: Logger): Promise<SigningKeys> {
    if (config.jwt.signingKeys) return SigningKeys.fromJwks(parseKeys(config.jwt.signingKeys));
    if (config.isProduction) throw new Error('JWT_SIGNING_KEYS is required in production');
    const file = path.join(config.dataDir, 'signing-keys.json');
    if (fs.existsSync(file)) return SigningKeys.fromJwks(parseKeys(fs.readFileSync(file, 'utf8')));
    const key = await generateSigningKey();
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ keys: [key] }, null, 2), { mode: 0o600, flag: 'wx' });
    logger.warn({ file }, 'generated a development signing key; set JWT_SIGNING_KEYS in production');
    return SigningKeys.fromJwks([key]);
  }
}

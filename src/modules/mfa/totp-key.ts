import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config';
import type { Logger } from '../../logger';

const SEALED_PREFIX = 'v1.';

const subKey = (key: Buffer, purpose: string) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `posture/totp/${purpose}`, 32));

/**
 * The TOTP key (TOTP_ENCRYPTION_KEY) and what it protects: secrets sealed with AES-256-GCM, bound
 * to their account (the user id is the additional data, so a sealed secret copied to another row
 * does not open), and recovery codes as HMAC-SHA-256. One sub-key per use, derived with HKDF.
 */
export class TotpKey {
  private readonly sealing: Buffer;
  private readonly hashing: Buffer;

  private constructor(key: Buffer) {
    this.sealing = subKey(key, 'secret');
    this.hashing = subKey(key, 'recovery-code');
  }

  static of(key: Buffer): TotpKey {
    if (key.length !== 32) throw new Error('the TOTP key must be 32 bytes');
    return new TotpKey(key);
  }

  /**
   * The configured key; otherwise (never in production: the configuration refuses) one generated
   * once and kept in DATA_DIR, as the development signing key is.
   */
  static load(config: Pick<Config, 'totp' | 'dataDir' | 'isProduction'>, logger: Logger): TotpKey {
    if (config.totp.encryptionKey) return TotpKey.of(config.totp.encryptionKey);
    if (config.isProduction) throw new Error('TOTP_ENCRYPTION_KEY is required in production');
    const file = path.join(config.dataDir, 'totp-key');
    const read = () => TotpKey.of(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64'));
    if (fs.existsSync(file)) return read();
    fs.mkdirSync(config.dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another instance on the same DATA_DIR wrote it first: use theirs.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return read();
      throw err;
    }
    logger.warn({ file }, 'generated a development TOTP key; set TOTP_ENCRYPTION_KEY in production');
    return read();
  }

  seal(userId: string, secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealing, iv);
    cipher.setAAD(Buffer.from(userId));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The secret sealed for `userId`; null when it was sealed under another key or for another account. */
  open(userId: string, sealed: string): string | null {
    if (!sealed.startsWith(SEALED_PREFIX)) return null;
    try {
      const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.sealing, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(userId));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  /** A recovery code (normalized) of `userId` as stored: a keyed hash, so a copy of the table yields no code. */
  recoveryCodeHash(userId: string, code: string): string {
    return createHmac('sha256', this.hashing).update(`${userId}:${code}`).digest('hex');
  }
}

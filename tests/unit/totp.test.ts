import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { TotpKey } from '../../src/modules/mfa/totp-key';
import { matchingStep, newRecoveryCodes, newTotpSecret, normalizeRecoveryCode, otpauthUrl, stepAt, totpCode } from '../../src/modules/mfa/totp';

// RFC 6238, appendix B: the SHA-1 seed "12345678901234567890", codes truncated to 6 digits.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const silent = pino({ level: 'silent' });

describe('TOTP codes', () => {
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('match RFC 6238 at T=%i', (seconds, code) => {
    expect(totpCode(RFC_SECRET, stepAt(new Date(seconds * 1000)))).toBe(code);
  });

  it('accept a code one step either side, not two, and only after the last step used', () => {
    const now = new Date(1111111109 * 1000);
    const step = stepAt(now);
    for (const offset of [-1, 0, 1]) expect(matchingStep(RFC_SECRET, totpCode(RFC_SECRET, step + offset), now, null)).toBe(step + offset);
    for (const offset of [-2, 2]) expect(matchingStep(RFC_SECRET, totpCode(RFC_SECRET, step + offset), now, null)).toBeNull();
    expect(matchingStep(RFC_SECRET, totpCode(RFC_SECRET, step), now, step)).toBeNull();
    expect(matchingStep(RFC_SECRET, totpCode(RFC_SECRET, step), now, step - 1)).toBe(step);
    expect(matchingStep(RFC_SECRET, totpCode(RFC_SECRET, step - 1), now, step - 1)).toBeNull();
    for (const bad of ['', '12345', '1234567', 'abcdef', '08180４']) expect(matchingStep(RFC_SECRET, bad, now, null)).toBeNull();
  });

  it('make 20-byte base32 secrets and an otpauth URI with the issuer and the account', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
    const url = new URL(otpauthUrl(secret, 'ada@example.com'));
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe('/Posture:ada@example.com');
    expect(Object.fromEntries(url.searchParams)).toEqual({ issuer: 'Posture', secret, algorithm: 'SHA1', digits: '6', period: '30' });
  });
});

describe('recovery codes', () => {
  it('are ten distinct xxxxx-xxxxx codes of Crockford base32', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
      expect(normalizeRecoveryCode(code)).toBe(code.replace('-', ''));
    }
  });

  it('read typed forms alike, and refuse what cannot be one', () => {
    expect(normalizeRecoveryCode(' AB1C2-D3E4F ')).toBe('ab1c2d3e4f');
    expect(normalizeRecoveryCode('ab1c2 d3e4f')).toBe('ab1c2d3e4f');
    expect(normalizeRecoveryCode('OBIC2-D3E4L')).toBe('0b1c2d3e41');
    for (const bad of ['', 'ab1c2-d3e4', 'ab1c2-d3e4f5', 'ab1c2-d3e4u', '123456', 'ab1c2_d3e4f']) expect(normalizeRecoveryCode(bad)).toBeNull();
  });
});

describe('TotpKey', () => {
  const key = TotpKey.of(Buffer.alloc(32, 1));
  const user = '11111111-1111-4111-8111-111111111111';
  const other = '22222222-2222-4222-8222-222222222222';

  it('seals a secret for one account: a fresh IV each time, and it opens only for that account under that key', () => {
    const a = key.seal(user, RFC_SECRET);
    const b = key.seal(user, RFC_SECRET);
    expect(a).not.toBe(b);
    expect(a).not.toContain(RFC_SECRET);
    expect(key.open(user, a)).toBe(RFC_SECRET);
    expect(key.open(other, a)).toBeNull();
    expect(TotpKey.of(Buffer.alloc(32, 2)).open(user, a)).toBeNull();
    const tampered = a.slice(0, -2) + (a.endsWith('A') ? 'BB' : 'AA');
    expect(key.open(user, tampered)).toBeNull();
    expect(key.open(user, 'not sealed')).toBeNull();
  });

  it('hashes a recovery code per account and per key', () => {
    const hash = key.recoveryCodeHash(user, 'ab1c2d3e4f');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.recoveryCodeHash(user, 'ab1c2d3e4f')).toBe(hash);
    expect(key.recoveryCodeHash(other, 'ab1c2d3e4f')).not.toBe(hash);
    expect(TotpKey.of(Buffer.alloc(32, 2)).recoveryCodeHash(user, 'ab1c2d3e4f')).not.toBe(hash);
  });

  describe('load', () => {
    let dataDir: string;
    beforeEach(() => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'posture-totp-'));
    });
    afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it('takes the configured key and writes nothing', () => {
      const loaded = TotpKey.load({ totp: { encryptionKey: Buffer.alloc(32, 1) }, dataDir, isProduction: true }, silent);
      expect(loaded.open(user, key.seal(user, 'x'))).toBe('x');
      expect(fs.readdirSync(dataDir)).toEqual([]);
    });

    it('refuses to make one up in production', () => {
      expect(() => TotpKey.load({ totp: {}, dataDir, isProduction: true }, silent)).toThrow(/TOTP_ENCRYPTION_KEY is required in production/);
    });

    it('generates one in development, once (0600), and reads it back', () => {
      const first = TotpKey.load({ totp: {}, dataDir, isProduction: false }, silent);
      const file = path.join(dataDir, 'totp-key');
      expect(Buffer.from(fs.readFileSync(file, 'utf8'), 'base64')).toHaveLength(32);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const second = TotpKey.load({ totp: {}, dataDir, isProduction: false }, silent);
      expect(second.open(user, first.seal(user, 'kept'))).toBe('kept');
    });
  });
});

import { ConfigError, loadConfig } from '../../src/config';

/** The problems a ConfigError lists, or fails the test when loading succeeds. */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

/** The least a production configuration needs. */
export const PRODUCTION = Object.freeze({
  NODE_ENV: 'production',
  JWT_SIGNING_KEYS: '{"keys":[]}', // checked when the keys load, not here
  SMTP_URL: 'smtp://mail.example.com:587',
  PUBLIC_URL: 'https://posture.example',
  TOTP_ENCRYPTION_KEY: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
});

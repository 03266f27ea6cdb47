import { isCommonPassword } from '../../src/modules/auth/common-passwords';
import { assertAcceptablePassword, PASSWORD_MAX, PASSWORD_MIN } from '../../src/modules/auth/password.service';
import { rejection } from '../support/rejection';

const accepts = (password: string, personal?: { email?: string; username?: string }) =>
  expect(() => assertAcceptablePassword(password, 'password', personal)).not.toThrow();

const rejects = (password: string, personal?: { email?: string; username?: string }) =>
  expect(rejection(() => assertAcceptablePassword(password, 'password', personal))).toMatchObject({
    code: 'BAD_USER_INPUT',
    details: { field: 'password' },
  });

describe('password length', () => {
  it('is 8 to 1024 characters', () => {
    expect([PASSWORD_MIN, PASSWORD_MAX]).toEqual([8, 1024]);
    rejects('k7#Qz!p');
    accepts('k7#Qz!pW');
    accepts('k7#Qz!pW'.repeat(128));
    rejects(`${'k7#Qz!pW'.repeat(128)}x`);
  });

  it('counts characters of any kind, not UTF-16 units or bytes', () => {
    // Each emoji is two UTF-16 units and four UTF-8 bytes.
    rejects('🔑🐢🌵🎻🧊🚲🦉');
    accepts('🔑🐢🌵🎻🧊🚲🦉🍋');
    accepts('🔑'.repeat(1024));
    rejects('🔑'.repeat(1025));
    accepts('пароль-дл');
    accepts('  spaces   inside and around  ');
  });
});

describe('common passwords', () => {
  it.each(['password123', 'qwertyuiop', 'password', '12345678', 'iloveyou'])('rejects %j', (password) => {
    expect(isCommonPassword(password)).toBe(true);
    rejects(password);
  });

  it('ignores case when matching the list', () => {
    rejects('Password123');
    rejects('QWERTYUIOP');
  });

  it('accepts a password that is not on the list', () => {
    expect(isCommonPassword('tangerine-otter-41-violin')).toBe(false);
    accepts('tangerine-otter-41-violin');
  });
});

describe('personal passwords', () => {
  const personal = { email: 'ada.lovelace@example.com', username: 'ada_lovelace' };

  it('rejects the email or the username, in any case', () => {
    rejects('ada.lovelace@example.com', personal);
    rejects('ADA.Lovelace@Example.com', personal);
    rejects('ada_lovelace', personal);
    rejects('Ada_Lovelace', personal);
  });

  it('accepts a password that merely contains them', () => {
    accepts('ada_lovelace-and-more', personal);
  });
});

it('names the field it checks', () => {
  expect(rejection(() => assertAcceptablePassword('short', 'newPassword')).details).toEqual({ field: 'newPassword' });
});

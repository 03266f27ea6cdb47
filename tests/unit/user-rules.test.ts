import {
  assertEmail,
  assertName,
  assertUsername,
  normalizeEmail,
  normalizeUsername,
  parseLoginName,
} from '../../src/modules/users/user.rules';
import { rejection } from '../support/rejection';

describe('email', () => {
  it('is normalized by trimming and lower-casing', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM \t')).toBe('ada.lovelace@example.com');
    expect(assertEmail(' Ada@Example.com ')).toBe('ada@example.com');
  });

  it.each(['', '   ', 'ada', 'ada@', '@example.com', 'ada@example', 'ada lovelace@example.com', 'ada@exa mple.com'])(
    'rejects %j as BAD_USER_INPUT naming the field',
    (email) => {
      expect(rejection(() => assertEmail(email))).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'email' } });
    },
  );

  it('rejects an address longer than 254 characters', () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(186)}.com`; // 255
    expect(rejection(() => assertEmail(email))).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'email' } });
  });

  it('names the field it is given', () => {
    expect(rejection(() => assertEmail('nope', 'newEmail')).details).toEqual({ field: 'newEmail' });
  });
});

describe('username', () => {
  it('is trimmed and lower-cased before it is checked', () => {
    expect(normalizeUsername('  Ada_99 ')).toBe('ada_99');
    expect(assertUsername('  ADA_Lovelace ')).toBe('ada_lovelace');
  });

  it.each(['ab', 'a_1', '__', '12', 'a'.repeat(20), 'snake_case_name_2024'])('accepts %j', (username) => {
    expect(assertUsername(username)).toBe(username);
  });

  it.each(['a', ' b ', 'a'.repeat(21), 'ada-lovelace', 'ada lovelace', 'ada.l', 'émile', 'ada!', '', 'ａｄａ'])(
    'rejects %j as BAD_USER_INPUT naming the field',
    (username) => {
      expect(rejection(() => assertUsername(username))).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'username' },
      });
    },
  );
});

describe('name', () => {
  it('is trimmed', () => {
    expect(assertName('  Ada Lovelace  ')).toBe('Ada Lovelace');
  });

  it('accepts 2 to 50 characters, counting characters rather than UTF-16 units', () => {
    expect(assertName('Al')).toBe('Al');
    expect(assertName('x'.repeat(50))).toHaveLength(50);
    expect([...assertName('😀'.repeat(50))]).toHaveLength(50);
    expect(assertName('李白')).toBe('李白');
  });

  it.each([
    ['one character', 'A'],
    ['whitespace around one character', '   A   '],
    ['only whitespace', '     '],
    ['51 characters', 'x'.repeat(51)],
    ['51 emoji', '😀'.repeat(51)],
  ])('rejects %s as BAD_USER_INPUT naming the field', (_label, name) => {
    expect(rejection(() => assertName(name))).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'name' } });
  });

  it('rejects control characters and bidi overrides', () => {
    expect(rejection(() => assertName('Ada\u0000Lovelace')).details).toEqual({ field: 'name' });
    expect(rejection(() => assertName('Ada \u202eecalevoL')).details).toEqual({ field: 'name' });
  });
});

describe('login name', () => {
  it('is an email when it contains @, else a username, normalized either way', () => {
    expect(parseLoginName('  Ada@Example.COM ')).toEqual({ email: 'ada@example.com' });
    expect(parseLoginName(' ADA_99 ')).toEqual({ username: 'ada_99' });
  });
});

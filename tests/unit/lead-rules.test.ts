import { localeOf, nameFromEmail, optionalCompanySize, optionalPhone, optionalText, usernameBase } from '../../src/modules/leads/lead.rules';
import { organisationFields } from '../../src/modules/users/organisation';
import { USERNAME_PATTERN } from '../../src/modules/users/user.rules';
import { fieldOf } from '../support/rejection';

describe('a username from an email', () => {
  it.each([
    ['kari.nordmann@fjord.no', 'kari_nordmann'],
    ['Ada+Security@Example.com', 'ada_security'],
    ['x@example.com', 'userx'],
    ['__@example.com', 'user'],
    ['Åse-Øyvind@example.no', 'ase_yvind'],
    ['averyveryverylonglocalpart@example.com', 'averyveryverylo'],
  ])('%s → %s, a valid username with room for a suffix', (email, expected) => {
    const base = usernameBase(email);
    expect(base).toBe(expected);
    expect(USERNAME_PATTERN.test(`${base}_9999`)).toBe(true);
  });
});

describe('a display name from an email', () => {
  it('tidies the local part, and falls back when nothing usable is left', () => {
    expect(nameFromEmail('kari.nordmann@fjord.no')).toBe('Kari Nordmann');
    expect(nameFromEmail('a@b.no')).toBe('Posture user');
  });
});

describe('lead and profile fields', () => {
  it('trim, clear when empty, and refuse what breaks a rule, naming the field', () => {
    expect(optionalText('  Fjord AS ', 'companyName', 100)).toBe('Fjord AS');
    expect(optionalText('   ', 'companyName', 100)).toBeNull();
    expect(fieldOf(() => optionalText('x'.repeat(101), 'companyName', 100))).toEqual(['BAD_USER_INPUT', 'companyName']);
    expect(fieldOf(() => optionalText('a\u202eb', 'industry', 64))).toEqual(['BAD_USER_INPUT', 'industry']);
    expect(optionalPhone(' +47 22 33 44 55 ')).toBe('+47 22 33 44 55');
    expect(fieldOf(() => optionalPhone('call me'))).toEqual(['BAD_USER_INPUT', 'phone']);
    expect(optionalCompanySize('11-50')).toBe('11-50');
    expect(fieldOf(() => optionalCompanySize('12'))).toEqual(['BAD_USER_INPUT', 'companySize']);
    expect(localeOf(undefined)).toBe('en');
    expect(localeOf('NB')).toBe('nb');
    expect(fieldOf(() => localeOf('de'))).toEqual(['BAD_USER_INPUT', 'locale']);
  });

  it('leave out what the input leaves out, and clear what it empties', () => {
    expect(organisationFields({ companyName: 'Fjord AS', industry: '' })).toEqual({ companyName: 'Fjord AS', industry: null });
    expect(fieldOf(() => organisationFields({ fullName: 'K' }))).toEqual(['BAD_USER_INPUT', 'fullName']);
  });
});

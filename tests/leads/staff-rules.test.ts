import { daysOf, periodOf, rate, sortGroups, zeroFilled } from '../../src/modules/leads/lead-metrics';
import { escapeLike } from '../../src/common/text';
import { optionalText } from '../../src/modules/leads/lead.rules';
import { fieldOf } from '../support/rejection';

// The pure parts of the staff view: the metrics period, its days, rates and group order, the
// notes rule and LIKE escaping. No database.

const at = (iso: string) => new Date(iso);

describe('periodOf', () => {
  const now = at('2026-11-29T12:00:00.000Z');

  it('defaults to the 30 days up to now, or up to `to`', () => {
    expect(periodOf(now, null, null)).toEqual({ from: at('2026-10-30T12:00:00.000Z'), to: now });
    expect(periodOf(now, undefined, at('2026-03-31T00:00:00Z'))).toEqual({ from: at('2026-03-01T00:00:00Z'), to: at('2026-03-31T00:00:00Z') });
    expect(periodOf(now, at('2026-11-01T00:00:00Z'), null)).toEqual({ from: at('2026-11-01T00:00:00Z'), to: now });
  });

  it('allows one instant and 366 days, refuses from after to and anything longer', () => {
    expect(periodOf(now, now, now)).toEqual({ from: now, to: now });
    expect(() => periodOf(now, at('2024-01-01T00:00:00Z'), at('2025-01-01T00:00:00Z'))).not.toThrow();
    expect(fieldOf(() => periodOf(now, at('2024-01-01T00:00:00Z'), at('2025-01-01T00:00:00.001Z')))).toEqual(['BAD_USER_INPUT', 'to']);
    expect(fieldOf(() => periodOf(now, at('2026-11-29T12:00:00.001Z'), null))).toEqual(['BAD_USER_INPUT', 'from']);
  });
});

describe('days', () => {
  it('lists every UTC day the period touches, across months and a leap day', () => {
    expect(daysOf({ from: at('2024-02-28T23:00:00Z'), to: at('2024-03-01T00:00:00Z') })).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(daysOf({ from: at('2025-12-31T23:59:59.999Z'), to: at('2026-01-01T00:00:00Z') })).toEqual(['2025-12-31', '2026-01-01']);
    expect(daysOf({ from: at('2025-06-01T10:00:00Z'), to: at('2025-06-01T11:00:00Z') })).toEqual(['2025-06-01']);
    // Local midnight elsewhere is not a day boundary: 1 June 01:30 in Oslo is still 31 May in UTC.
    expect(daysOf({ from: at('2025-06-01T01:30:00+02:00'), to: at('2025-06-01T01:30:00+02:00') })).toEqual(['2025-05-31']);
    expect(daysOf({ from: at('2024-01-01T00:00:00Z'), to: at('2025-01-01T00:00:00Z') })).toHaveLength(367);
  });

  it('fills the days without a row with zero', () => {
    const period = { from: at('2025-03-01T00:00:00Z'), to: at('2025-03-04T00:00:00Z') };
    expect(zeroFilled(period, [{ day: '2025-03-02', count: 3 }])).toEqual([
      { date: '2025-03-01', count: 0 },
      { date: '2025-03-02', count: 3 },
      { date: '2025-03-03', count: 0 },
      { date: '2025-03-04', count: 0 },
    ]);
  });
});

describe('rates and groups', () => {
  it('divides, answering 0 for nothing and at most 1', () => {
    expect([rate(0, 0), rate(3, 0), rate(1, 4), rate(2, 3), rate(5, 4)]).toEqual([0, 0, 0.25, 2 / 3, 1]);
  });

  it('orders groups by a given order, else alphabetically, a null key last', () => {
    const g = (key: string | null) => ({ key, averageScore: 1, count: 1 });
    expect(sortGroups([g(null), g('Retail'), g('Finance')]).map((x) => x.key)).toEqual(['Finance', 'Retail', null]);
    expect(sortGroups([g('1000+'), g(null), g('11-50'), g('1-10')], ['1-10', '11-50', '51-200', '201-1000', '1000+']).map((x) => x.key)).toEqual([
      '1-10',
      '11-50',
      '1000+',
      null,
    ]);
  });
});

describe('notes and search text', () => {
  it('keeps newlines and tabs in multi-line text only', () => {
    expect(optionalText(' a\n\tb ', 'notes', 10, { multiline: true })).toBe('a\n\tb');
    expect(fieldOf(() => optionalText('a\nb', 'source', 10))).toEqual(['BAD_USER_INPUT', 'source']);
    for (const bad of ['a\rb', 'a\u0000b', 'a\u007fb', 'a\u0085b', 'a\u202eb', 'a\u2066b']) {
      expect(fieldOf(() => optionalText(bad, 'notes', 10, { multiline: true }))).toEqual(['BAD_USER_INPUT', 'notes']);
    }
  });

  it('counts characters, not UTF-16 units', () => {
    expect(optionalText('😀'.repeat(3), 'notes', 3, { multiline: true })).toBe('😀😀😀');
    expect(fieldOf(() => optionalText('😀'.repeat(4), 'notes', 3, { multiline: true }))).toEqual(['BAD_USER_INPUT', 'notes']);
    expect(optionalText(' \n ', 'notes', 3, { multiline: true })).toBeNull();
  });

  it('escapes the characters LIKE gives a meaning', () => {
    expect(escapeLike('100%_a\\b')).toBe('100\\%\\_a\\\\b');
    expect(escapeLike('plain')).toBe('plain');
  });
});

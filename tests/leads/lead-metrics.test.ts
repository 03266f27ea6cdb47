import { codes, ok } from '../support/graphql';
import { bearer, createSuperuser, createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';
import { METRICS, seedAssessment, seedLead } from './support';

// leadMetrics against a data set seeded with known times, industries, sizes and scores; every
// expected figure below is worked out by hand from the seed, in the comments beside it.

const DAY = 86_400_000;
let t: TestApp;
let admin: { token: string };

beforeAll(async () => {
  t = await startTestApp();
  admin = bearer(await createSuperuser(t));
});
afterAll(() => t.stop());

const metrics = async (from?: string | Date, to?: string | Date) => ok(await t.gql(METRICS, { from, to }, admin)).leadMetrics;

describe('a week of March 2025, seeded', () => {
  // The period: the whole of 1–7 March 2025, UTC, both ends inclusive.
  const FROM = '2025-03-01T00:00:00.000Z';
  const TO = '2025-03-07T23:59:59.999Z';
  const L = {} as Record<string, string>;

  beforeAll(async () => {
    const account = await createVerifiedUser(t, 'mx');
    // Leads. In the period: L1–L5 (L2 on the last millisecond of the 1st, L5 on the last of the period).
    L.L1 = await seedLead(t, { createdAt: '2025-03-01T08:00:00Z', industry: 'Retail', companySize: '1-10', convertedUserId: account.id, convertedAt: '2025-03-02T08:00:00Z' });
    L.L2 = await seedLead(t, { createdAt: '2025-03-01T23:59:59.999Z', industry: 'retail', companySize: '11-50' });
    // Converted after the period: still a conversion of a lead captured in it.
    L.L3 = await seedLead(t, { createdAt: '2025-03-03T00:00:00Z', industry: 'Finance', companySize: '1-10', convertedAt: '2025-04-10T00:00:00Z' });
    L.L4 = await seedLead(t, { createdAt: '2025-03-05T12:00:00Z' });
    L.L5 = await seedLead(t, { createdAt: TO, industry: 'Finance', companySize: '51-200' });
    // Outside: one millisecond before, and the first instant after.
    L.L6 = await seedLead(t, { createdAt: '2025-02-28T23:59:59.999Z', industry: 'Retail', companySize: '1-10', convertedAt: '2025-03-01T10:00:00Z' });
    L.L7 = await seedLead(t, { createdAt: '2025-03-08T00:00:00Z', industry: 'Finance', companySize: '1-10' });

    // Assessments (started → completed, score).
    await seedAssessment(t, { leadId: L.L1, userId: account.id, startedAt: '2025-03-01T09:00:00Z', completedAt: '2025-03-01T09:30:00Z', percentageScore: 72.5 }); // A1 moved to the account
    await seedAssessment(t, { leadId: L.L2, startedAt: '2025-03-02T10:00:00Z', completedAt: '2025-03-02T10:20:00Z', percentageScore: 40 }); // A2
    await seedAssessment(t, { leadId: L.L2, startedAt: '2025-03-06T10:00:00Z' }); // A3 in progress
    await seedAssessment(t, { leadId: L.L3, startedAt: '2025-03-03T10:00:00Z', completedAt: '2025-03-03T11:00:00Z', percentageScore: 85.3 }); // A4
    await seedAssessment(t, { leadId: L.L4, startedAt: '2025-03-05T12:10:00Z', completedAt: '2025-03-05T12:40:00Z', percentageScore: 55 }); // A5
    await seedAssessment(t, { leadId: L.L6, startedAt: '2025-02-27T10:00:00Z', completedAt: '2025-03-01T01:00:00Z', percentageScore: 61.2 }); // A6 started before
    await seedAssessment(t, { leadId: L.L5, startedAt: '2025-03-07T23:00:00Z', completedAt: '2025-03-08T01:00:00Z', percentageScore: 99 }); // A7 completed after
    await seedAssessment(t, { leadId: L.L7, startedAt: '2025-03-08T09:00:00Z', completedAt: '2025-03-08T09:30:00Z', percentageScore: 10 }); // A8 after
    await seedAssessment(t, { userId: account.id, startedAt: '2025-03-02T09:00:00Z', completedAt: '2025-03-02T09:30:00Z', percentageScore: 12 }); // A9 the account's own
    await seedAssessment(t, { leadId: L.L1, userId: account.id, startedAt: '2025-03-04T09:00:00Z', deletedAt: '2025-03-04T10:00:00Z' }); // A10 moved, deleted
    await seedAssessment(t, { leadId: L.L3, startedAt: '2025-03-06T00:00:00Z', completedAt: '2025-03-06T00:30:00Z', percentageScore: 90 }); // A11
  });

  it('counts leads by capture time, conversions among them, and the conversion rate', async () => {
    const m = await metrics(FROM, TO);
    expect(m.from).toBe(FROM);
    expect(m.to).toBe(TO);
    expect(m.captured).toBe(5); // L1, L2, L3, L4, L5
    expect(m.converted).toBe(2); // L1, L3 (L6 converted in the period but was captured before it)
    expect(m.conversionRate).toBe(0.4); // 2 ÷ 5
  });

  it("counts the leads' assessments by start and by completion time, and the completion rate", async () => {
    const m = await metrics(FROM, TO);
    // Started in the period: A1, A2, A3, A4, A5, A7, A10, A11 (not A6, started before; A8 after; A9 not a lead's).
    expect(m.assessmentsStarted).toBe(8);
    // Completed in the period: A1, A2, A4, A5, A6, A11 (not A7, completed after).
    expect(m.assessmentsCompleted).toBe(6);
    expect(m.completionRate).toBe(0.75); // 6 ÷ 8
  });

  it('averages the scores completed in the period by industry and by company size', async () => {
    const m = await metrics(FROM, TO);
    expect(m.averageScoreByIndustry).toEqual([
      { key: 'Finance', averageScore: 87.7, count: 2 }, // A4 85.3, A11 90: 175.3 ÷ 2 = 87.65 → 87.7
      { key: 'Retail', averageScore: 57.9, count: 3 }, // A1 72.5 (Retail), A2 40 (retail), A6 61.2: 173.7 ÷ 3 = 57.9
      { key: null, averageScore: 55, count: 1 }, // A5 (L4 left it empty)
    ]);
    expect(m.averageScoreByCompanySize).toEqual([
      { key: '1-10', averageScore: 77.3, count: 4 }, // A1 72.5, A4 85.3, A6 61.2, A11 90: 309 ÷ 4 = 77.25 → 77.3
      { key: '11-50', averageScore: 40, count: 1 }, // A2
      { key: null, averageScore: 55, count: 1 }, // A5 ('51-200' has L5, whose A7 completed after the period)
    ]);
  });

  it('gives every day of the period, in UTC, with a zero for a day without a capture', async () => {
    const m = await metrics(FROM, TO);
    expect(m.capturedPerDay).toEqual([
      { date: '2025-03-01', count: 2 }, // L1, L2
      { date: '2025-03-02', count: 0 },
      { date: '2025-03-03', count: 1 }, // L3
      { date: '2025-03-04', count: 0 },
      { date: '2025-03-05', count: 1 }, // L4
      { date: '2025-03-06', count: 0 },
      { date: '2025-03-07', count: 1 }, // L5
    ]);
  });

  it('takes both ends as inclusive, to the millisecond', async () => {
    // From L2's instant to L5's: L2, L3, L4, L5; L1 is before it.
    const m = await metrics('2025-03-01T23:59:59.999Z', TO);
    expect(m.captured).toBe(4);
    expect(m.capturedPerDay.map((d: any) => d.count)).toEqual([1, 0, 1, 0, 1, 0, 1]);
    // One instant: the single lead captured at it.
    const instant = await metrics(TO, TO);
    expect(instant.captured).toBe(1);
    expect(instant.capturedPerDay).toEqual([{ date: '2025-03-07', count: 1 }]);
  });

  it('answers 0 for the rates of a period with nothing in it', async () => {
    const m = await metrics('2024-01-01T00:00:00Z', '2024-01-02T12:00:00Z');
    expect(m).toMatchObject({ captured: 0, converted: 0, conversionRate: 0, assessmentsStarted: 0, assessmentsCompleted: 0, completionRate: 0 });
    expect(m.averageScoreByIndustry).toEqual([]);
    expect(m.capturedPerDay).toEqual([
      { date: '2024-01-01', count: 0 },
      { date: '2024-01-02', count: 0 },
    ]);
  });

  it('keeps the completion rate at most 1 when completions outnumber starts', async () => {
    // 1 March 00:00–09:15: A6 completed (started in February), A1 started at 09:00: 1 ÷ 1; to 09:45 A1 completes too: 2 ÷ 1, capped.
    expect((await metrics(FROM, '2025-03-01T09:15:00Z')).completionRate).toBe(1);
    const m = await metrics(FROM, '2025-03-01T09:45:00Z');
    expect([m.assessmentsStarted, m.assessmentsCompleted, m.completionRate]).toEqual([1, 2, 1]);
  });
});

describe('the period', () => {
  it('is by default the 30 days up to now, on the app clock', async () => {
    const now = t.clock.now().getTime();
    // One lead a minute inside the default window, one a minute outside it.
    await seedLead(t, { createdAt: new Date(now - 30 * DAY + 60_000), industry: 'Clocked' });
    await seedLead(t, { createdAt: new Date(now - 30 * DAY - 60_000), industry: 'Clocked' });
    const m = await metrics();
    expect(Date.parse(m.to) - now).toBeGreaterThanOrEqual(0);
    expect(Date.parse(m.to) - now).toBeLessThan(60_000);
    expect(Date.parse(m.to) - Date.parse(m.from)).toBe(30 * DAY);
    expect(m.captured).toBe(1);
    expect(m.capturedPerDay.length).toBe(31);
    expect(m.capturedPerDay.reduce((s: number, d: any) => s + d.count, 0)).toBe(1);
    // Two minutes on (within the access token's life), the first is out of the window too.
    t.clock.advance(120);
    expect((await metrics()).captured).toBe(0);
  });

  it('reaches back 30 days from `to` when only `to` is given, and up to now when only `from` is', async () => {
    const m = await metrics(undefined, '2025-03-07T23:59:59.999Z');
    expect(m.from).toBe('2025-02-05T23:59:59.999Z');
    const since = new Date(t.clock.now().getTime() - 3 * DAY).toISOString();
    const recent = await metrics(since);
    expect(recent.from).toBe(since);
    expect(Math.abs(Date.parse(recent.to) - t.clock.now().getTime())).toBeLessThan(60_000);
  });

  it('refuses `from` after `to`, and a period over 366 days, as BAD_USER_INPUT naming the argument', async () => {
    const later = await t.gql(METRICS, { from: '2025-03-02T00:00:00Z', to: '2025-03-01T00:00:00Z' }, admin);
    expect(codes(later)).toEqual(['BAD_USER_INPUT']);
    expect(later.errors![0]!.extensions!.field).toBe('from');
    const long = await t.gql(METRICS, { from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00.001Z' }, admin);
    expect(codes(long)).toEqual(['BAD_USER_INPUT']);
    expect(long.errors![0]!.extensions!.field).toBe('to');
    // 366 days exactly (2024 is a leap year) is allowed: 367 calendar days touched.
    const year = await metrics('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
    expect(year.capturedPerDay).toHaveLength(367);
    const future = await t.gql(METRICS, { from: new Date(t.clock.now().getTime() + DAY).toISOString() }, admin);
    expect(codes(future)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses what is not a date time', async () => {
    for (const from of ['2025-03-01', 'yesterday', '2025-02-30T00:00:00Z']) {
      const res = await t.gql(METRICS, { from }, admin);
      expect(res.errors?.length).toBeGreaterThan(0);
      expect(res.data ?? null).toBeNull();
    }
  });
});

import { mergeAnswers, riskLevelOf, roundPercent, scoreAssessment } from '../../src/modules/assessments/scoring';
import type {
  AnswerInputLike,
  CategoryNode,
  QuestionKind,
  QuestionNode,
  StoredAnswers,
  TemplateLocale,
  TemplateNode,
} from '../../src/modules/assessments/template.types';
import { rejection } from '../support/rejection';

interface QuestionSpec {
  id: string;
  kind?: QuestionKind;
  weight: number;
  /** One option per entry, with the id `<question id>.<index>`. */
  points: number[];
  na?: boolean;
  nist?: string[];
  cis?: string[];
}

interface CategorySpec {
  id: string;
  name: string;
  weight?: number;
  questions: QuestionSpec[];
}

function question(spec: QuestionSpec, categoryId: string, order: number): QuestionNode {
  return {
    id: spec.id,
    categoryId,
    text: `Question ${spec.id}?`,
    helpText: null,
    kind: spec.kind ?? 'SINGLE',
    weight: spec.weight,
    order,
    allowsNotApplicable: spec.na ?? false,
    recommendation: `Fix ${spec.id}.`,
    nist: spec.nist ?? ['GV.OC-01'],
    cis: spec.cis ?? [],
    options: spec.points.map((points, i) => ({
      id: `${spec.id}.${i}`,
      questionId: spec.id,
      label: `Option ${i}`,
      points,
      order: i,
    })),
  };
}

function template(categories: CategorySpec[], locale: TemplateLocale = 'en'): TemplateNode {
  return {
    id: 't',
    slug: 'test',
    name: 'Test',
    description: null,
    locale,
    version: 1,
    status: 'PUBLISHED',
    categories: categories.map(
      (c, order): CategoryNode => ({
        id: c.id,
        templateId: 't',
        name: c.name,
        description: null,
        weight: c.weight ?? 1,
        order,
        questions: c.questions.map((q, i) => question(q, c.id, i)),
      }),
    ),
  };
}

/** Answers by question id: option ids, or 'N/A'. */
function answers(given: Record<string, string[] | 'N/A'>): StoredAnswers {
  return Object.fromEntries(
    Object.entries(given).map(([id, a]) => [
      id,
      a === 'N/A' ? { optionIds: [], notApplicable: true } : { optionIds: a, notApplicable: false },
    ]),
  );
}

/**
 * A (weight 2): a1 SINGLE w4 [0, 2, 4]; a2 MULTIPLE w3 [1, 2, 2]
 * B (weight 1): b1 SINGLE w5 [0, 5], may be N/A; b2 SINGLE w2 [0, 1, 2]
 * Maximum 4 + 3 + 5 + 2 = 14.
 */
const main = (locale: TemplateLocale = 'en', names = ['Identity and access', 'Backups']) =>
  template(
    [
      {
        id: 'A',
        name: names[0]!,
        weight: 2,
        questions: [
          { id: 'a1', weight: 4, points: [0, 2, 4], nist: ['PR.AA-01', 'PR.AA-03'], cis: ['5.2', '6.3'] },
          { id: 'a2', kind: 'MULTIPLE', weight: 3, points: [1, 2, 2] },
        ],
      },
      {
        id: 'B',
        name: names[1]!,
        weight: 1,
        questions: [
          { id: 'b1', weight: 5, points: [0, 5], na: true },
          { id: 'b2', weight: 2, points: [0, 1, 2] },
        ],
      },
    ],
    locale,
  );

/** One SINGLE question of weight `weight` whose only option is worth `points`. */
const oneQuestion = (weight: number, points: number) =>
  template([{ id: 'C', name: 'Only', questions: [{ id: 'q', weight, points: [points] }] }]);

describe('roundPercent', () => {
  it('rounds 100 × earned / max to one decimal place', () => {
    expect(roundPercent(2, 3)).toBe(66.7); // 66.666…
    expect(roundPercent(1, 3)).toBe(33.3); // 33.333…
    expect(roundPercent(0, 7)).toBe(0);
    expect(roundPercent(7, 7)).toBe(100);
  });

  it('rounds halves up', () => {
    expect(roundPercent(1, 16)).toBe(6.3); // 6.25
    expect(roundPercent(1, 8)).toBe(12.5); // exact
  });

  it('is not thrown off by float artifacts', () => {
    expect(roundPercent(0.1 + 0.2, 0.3)).toBe(100); // 100.00000000000001
    expect(roundPercent(0.1 + 0.2, 1)).toBe(30); // 30.000000000000004
    // 0.29 / 4 = 0.0725 exactly, but 0.29 × 100 / 4 = 7.249999999999999 in floats: still 7.3
    expect(roundPercent(0.29, 4)).toBe(7.3);
    expect(roundPercent(2.03, 4)).toBe(50.8); // 50.74999999999999
    expect(roundPercent(1599, 2000)).toBe(80); // 79.95
  });
});

describe('riskLevelOf', () => {
  it.each([
    [100, 'LOW'],
    [80, 'LOW'],
    [79.9, 'MEDIUM'],
    [60, 'MEDIUM'],
    [59.9, 'HIGH'],
    [40, 'HIGH'],
    [39.9, 'CRITICAL'],
    [0, 'CRITICAL'],
  ])('gives %p the risk %s', (percentage, risk) => {
    expect(riskLevelOf(percentage)).toBe(risk);
  });
});

describe('scoreAssessment', () => {
  it('gives a SINGLE question the points of its chosen option', () => {
    const result = scoreAssessment(main(), answers({ a1: ['a1.1'] }));
    // a1 earns 2; the rest is unanswered: 2 / 14 = 14.285…%
    expect(result).toMatchObject({ totalScore: 2, maxPossibleScore: 14, percentageScore: 14.3, riskLevel: 'CRITICAL' });
    expect(result.categoryScores[0]).toEqual({ categoryId: 'A', score: 2, maxScore: 7, percentage: 28.6, riskLevel: 'CRITICAL' });
  });

  it('sums the options of a MULTIPLE question and caps the sum at its weight', () => {
    // a2.1 + a2.2 = 2 + 2 = 4, capped at the weight 3
    expect(scoreAssessment(main(), answers({ a2: ['a2.1', 'a2.2'] })).totalScore).toBe(3);
    // a2.0 + a2.1 = 1 + 2 = 3, exactly the weight
    expect(scoreAssessment(main(), answers({ a2: ['a2.0', 'a2.1'] })).totalScore).toBe(3);
    // a2.0 alone = 1
    expect(scoreAssessment(main(), answers({ a2: ['a2.0'] })).totalScore).toBe(1);
    // all three = 5, capped at 3; A: 3 / 7 = 42.857…% → HIGH
    const all = scoreAssessment(main(), answers({ a2: ['a2.0', 'a2.1', 'a2.2'] }));
    expect(all.categoryScores[0]).toEqual({ categoryId: 'A', score: 3, maxScore: 7, percentage: 42.9, riskLevel: 'HIGH' });
    // a2 lost 3 − 3 = 0, so it has no recommendation
    expect(all.recommendations.map((r) => r.questionId)).not.toContain('a2');
  });

  it('counts unanswered questions at 0 in the maximum', () => {
    const result = scoreAssessment(main(), {});
    // 0 / 14
    expect(result).toMatchObject({ totalScore: 0, maxPossibleScore: 14, percentageScore: 0, riskLevel: 'CRITICAL' });
    expect(result.categoryScores).toEqual([
      { categoryId: 'A', score: 0, maxScore: 7, percentage: 0, riskLevel: 'CRITICAL' },
      { categoryId: 'B', score: 0, maxScore: 7, percentage: 0, riskLevel: 'CRITICAL' },
    ]);
    // every question lost its whole weight and is recommended
    expect(result.recommendations.map((r) => [r.questionId, r.pointsLost])).toEqual([
      ['a1', 4], // 4 × 2 = 8
      ['a2', 3], // 3 × 2 = 6
      ['b1', 5], // 5 × 1 = 5
      ['b2', 2], // 2 × 1 = 2
    ]);
  });

  it('leaves a not-applicable question out of both score and maximum', () => {
    const result = scoreAssessment(main(), answers({ b1: 'N/A', b2: ['b2.1'] }));
    // max 14 − 5 = 9; earned b2 = 1; 1 / 9 = 11.1…%; B: 1 / 2 = 50%
    expect(result).toMatchObject({ totalScore: 1, maxPossibleScore: 9, percentageScore: 11.1 });
    expect(result.categoryScores[1]).toEqual({ categoryId: 'B', score: 1, maxScore: 2, percentage: 50, riskLevel: 'HIGH' });
    expect(result.recommendations.map((r) => r.questionId)).not.toContain('b1');
  });

  it('counts a stored "not applicable" as unanswered where the question does not allow it', () => {
    const result = scoreAssessment(main(), answers({ a1: 'N/A' }));
    // a1 stays in the maximum (14) and earns 0
    expect(result).toMatchObject({ totalScore: 0, maxPossibleScore: 14 });
    expect(result.recommendations[0]).toMatchObject({ questionId: 'a1', pointsLost: 4 });
  });

  it('refuses to score when every question is not applicable', () => {
    const allNa = template([
      { id: 'C', name: 'C', questions: [{ id: 'c1', weight: 2, points: [0, 2], na: true }] },
      { id: 'D', name: 'D', questions: [{ id: 'd1', weight: 3, points: [0, 3], na: true }] },
    ]);
    const err = rejection(() => scoreAssessment(allNa, answers({ c1: 'N/A', d1: 'N/A' })));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.details).toEqual({ field: 'answers' });
    expect(err.message).toMatch(/^answers: /);
  });

  it('leaves out a category whose questions are all not applicable', () => {
    const t = template([
      { id: 'A', name: 'Access', questions: [{ id: 'a1', weight: 4, points: [0, 3, 4] }] },
      { id: 'P', name: 'Physical', questions: [{ id: 'p1', weight: 2, points: [0, 2], na: true }] },
    ]);
    const result = scoreAssessment(t, answers({ a1: ['a1.1'], p1: 'N/A' }));
    // 3 / 4 = 75% overall and in A; P has maximum 0
    expect(result).toMatchObject({ totalScore: 3, maxPossibleScore: 4, percentageScore: 75, riskLevel: 'MEDIUM' });
    expect(result.categoryScores).toEqual([{ categoryId: 'A', score: 3, maxScore: 4, percentage: 75, riskLevel: 'MEDIUM' }]);
    expect(result.recommendations.map((r) => r.categoryId)).toEqual(['A']);
    expect(result.insights).not.toContain('Physical');
  });

  it.each([
    // points of 20 → percentage → risk
    [16, 80, 'LOW'],
    [15.99, 80, 'LOW'], // 79.95 rounds to 80.0
    [15.98, 79.9, 'MEDIUM'],
    [12, 60, 'MEDIUM'],
    [11.98, 59.9, 'HIGH'],
    [8, 40, 'HIGH'],
    [7.98, 39.9, 'CRITICAL'],
  ])('takes the risk from the rounded percentage: %p of 20 is %p%%, %s', (points, percentage, risk) => {
    const result = scoreAssessment(oneQuestion(20, points), answers({ q: ['q.0'] }));
    expect(result.percentageScore).toBe(percentage);
    expect(result.riskLevel).toBe(risk);
    expect(result.categoryScores[0]).toMatchObject({ percentage, riskLevel: risk });
  });

  it('rounds 2 of 3 to 66.7%', () => {
    const result = scoreAssessment(oneQuestion(3, 2), answers({ q: ['q.0'] }));
    expect(result).toMatchObject({ totalScore: 2, maxPossibleScore: 3, percentageScore: 66.7, riskLevel: 'MEDIUM' });
  });

  it('rounds scores to 4 decimals, without float noise', () => {
    // 0.1 + 0.2 = 0.30000000000000004 in floats
    const t = template([
      {
        id: 'C',
        name: 'C',
        questions: [
          { id: 'x', weight: 1, points: [0.1] },
          { id: 'y', weight: 1, points: [0.2] },
        ],
      },
    ]);
    const result = scoreAssessment(t, answers({ x: ['x.0'], y: ['y.0'] }));
    // 0.3 / 2 = 15%; lost 1 − 0.1 = 0.9 and 1 − 0.2 = 0.8
    expect(result).toMatchObject({ totalScore: 0.3, maxPossibleScore: 2, percentageScore: 15 });
    expect(result.categoryScores[0]!.score).toBe(0.3);
    expect(result.recommendations.map((r) => r.pointsLost)).toEqual([0.9, 0.8]);
  });

  it('gives 100% and LOW risk, with nothing to recommend, for the best answers', () => {
    const result = scoreAssessment(main(), answers({ a1: ['a1.2'], a2: ['a2.1', 'a2.2'], b1: ['b1.1'], b2: ['b2.2'] }));
    // 4 + 3 (capped) + 5 + 2 = 14 of 14
    expect(result).toMatchObject({ totalScore: 14, maxPossibleScore: 14, percentageScore: 100, riskLevel: 'LOW' });
    expect(result.categoryScores.map((c) => [c.percentage, c.riskLevel])).toEqual([
      [100, 'LOW'],
      [100, 'LOW'],
    ]);
    expect(result.recommendations).toEqual([]);
  });

  describe('recommendations', () => {
    /**
     * X (weight 3): x1 w2 [0, 1, 2]; x2 w4 [0, 2, 4]
     * Y (weight 1): y1 w6 [0, 3, 6]; y2 w3 [0, 3]; y3 w3 [0, 3]
     */
    const t = template([
      {
        id: 'X',
        name: 'Network',
        weight: 3,
        questions: [
          { id: 'x1', weight: 2, points: [0, 1, 2] },
          { id: 'x2', weight: 4, points: [0, 2, 4] },
        ],
      },
      {
        id: 'Y',
        name: 'People',
        weight: 1,
        questions: [
          { id: 'y1', weight: 6, points: [0, 3, 6] },
          { id: 'y2', weight: 3, points: [0, 3] },
          { id: 'y3', weight: 3, points: [0, 3] },
        ],
      },
    ]);
    // x1 → 1, x2 → 2, y1 → 0, y2 and y3 unanswered
    const given = answers({ x1: ['x1.1'], x2: ['x2.1'], y1: ['y1.0'] });

    it('orders by points lost × category weight, ties by category order and then question order', () => {
      const result = scoreAssessment(t, given);
      expect(result.recommendations.map((r) => [r.questionId, r.pointsLost])).toEqual([
        ['x2', 2], // 2 × 3 = 6, category X first
        ['y1', 6], // 6 × 1 = 6
        ['x1', 1], // 1 × 3 = 3, category X first
        ['y2', 3], // 3 × 1 = 3, question y2 before y3
        ['y3', 3], // 3 × 1 = 3
      ]);
    });

    it('takes its priority from the risk of its category', () => {
      const result = scoreAssessment(t, given);
      // X: 3 / 6 = 50% → HIGH; Y: 0 / 12 = 0% → CRITICAL
      expect(result.categoryScores.map((c) => [c.categoryId, c.percentage, c.riskLevel])).toEqual([
        ['X', 50, 'HIGH'],
        ['Y', 0, 'CRITICAL'],
      ]);
      expect(result.recommendations.map((r) => [r.questionId, r.priority])).toEqual([
        ['x2', 'HIGH'],
        ['y1', 'CRITICAL'],
        ['x1', 'HIGH'],
        ['y2', 'CRITICAL'],
        ['y3', 'CRITICAL'],
      ]);
    });

    it('carries the question as title, its recommendation as detail, NIST then CIS references', () => {
      const result = scoreAssessment(main(), answers({ a1: ['a1.1'] }));
      expect(result.recommendations.find((r) => r.questionId === 'a1')).toEqual({
        questionId: 'a1',
        categoryId: 'A',
        priority: 'CRITICAL', // A: 2 / 7 = 28.6%
        title: 'Question a1?',
        detail: 'Fix a1.',
        references: ['PR.AA-01', 'PR.AA-03', 'CIS 5.2', 'CIS 6.3'],
        pointsLost: 2, // 4 − 2
      });
      // a2 has no CIS safeguards
      expect(result.recommendations.find((r) => r.questionId === 'a2')!.references).toEqual(['GV.OC-01']);
    });
  });

  describe('insights', () => {
    // A: a1 4 + a2 3 = 7 / 7 = 100%; B: b1 0 + b2 1 = 1 / 7 = 14.285…%
    const given = answers({ a1: ['a1.2'], a2: ['a2.0', 'a2.1'], b1: ['b1.0'], b2: ['b2.1'] });

    it('names the strongest and weakest categories in English', () => {
      expect(scoreAssessment(main(), given).insights).toBe('Strongest: Identity and access (100.0%). Weakest: Backups (14.3%).');
    });

    it('names them in Norwegian for a Norwegian template', () => {
      const nb = main('nb', ['Identitet og tilgang', 'Sikkerhetskopier']);
      expect(scoreAssessment(nb, given).insights).toBe(
        'Sterkest: Identitet og tilgang (100,0 %). Svakest: Sikkerhetskopier (14,3 %).',
      );
    });

    it('breaks ties by template order', () => {
      const four = (locale: TemplateLocale) =>
        template(
          ['P', 'Q', 'R', 'S'].map((id) => ({ id, name: `Cat ${id}`, questions: [{ id: id.toLowerCase(), weight: 2, points: [0, 2] }] })),
          locale,
        );
      // P 100%, Q 100%, R 0%, S 0%: P and R come first
      const tied = answers({ p: ['p.1'], q: ['q.1'], r: ['r.0'], s: ['s.0'] });
      expect(scoreAssessment(four('en'), tied).insights).toBe('Strongest: Cat P (100.0%). Weakest: Cat R (0.0%).');
    });

    it('reports a single scored category on its own', () => {
      const single = (locale: TemplateLocale, name: string) =>
        template(
          [
            { id: 'B', name, questions: [{ id: 'b', weight: 10, points: [0, 3, 10] }] },
            { id: 'N', name: 'Skipped', questions: [{ id: 'n', weight: 1, points: [1], na: true }] },
          ],
          locale,
        );
      // 3 / 10 = 30%; N is not applicable
      const given = answers({ b: ['b.1'], n: 'N/A' });
      expect(scoreAssessment(single('en', 'Backups'), given).insights).toBe('Only one category was scored: Backups (30.0%).');
      expect(scoreAssessment(single('nb', 'Sikkerhetskopier'), given).insights).toBe(
        'Bare én kategori ble vurdert: Sikkerhetskopier (30,0 %).',
      );
    });

    it('says so when every category scored the same', () => {
      // A: 0 / 7, B: 0 / 7
      expect(scoreAssessment(main(), {}).insights).toBe('Every category scored the same (0.0%).');
      expect(scoreAssessment(main('nb'), {}).insights).toBe('Alle kategoriene fikk samme resultat (0,0 %).');
    });
  });
});

describe('mergeAnswers', () => {
  const stored = (): StoredAnswers => answers({ a1: ['a1.0'], b1: ['b1.1'] });

  it('replaces the answer of a question and keeps the others, in a new map', () => {
    const before = stored();
    const merged = mergeAnswers(main(), before, [{ questionId: 'a1', optionIds: ['a1.2'] }]);
    expect(merged).toEqual(answers({ a1: ['a1.2'], b1: ['b1.1'] }));
    expect(merged).not.toBe(before);
    expect(before).toEqual(stored());
  });

  it('adds answers to new questions', () => {
    const merged = mergeAnswers(main(), stored(), [
      { questionId: 'a2', optionIds: ['a2.0', 'a2.2'] },
      { questionId: 'b2', optionIds: ['b2.1'], notApplicable: false },
    ]);
    expect(merged).toEqual(answers({ a1: ['a1.0'], a2: ['a2.0', 'a2.2'], b1: ['b1.1'], b2: ['b2.1'] }));
  });

  it('removes an answer given without options and not "not applicable"', () => {
    const before = stored();
    expect(mergeAnswers(main(), before, [{ questionId: 'b1', optionIds: [] }])).toEqual(answers({ a1: ['a1.0'] }));
    expect(mergeAnswers(main(), before, [{ questionId: 'a1', optionIds: [], notApplicable: null }])).toEqual(
      answers({ b1: ['b1.1'] }),
    );
    // removing an unanswered question changes nothing
    expect(mergeAnswers(main(), before, [{ questionId: 'b2', optionIds: [], notApplicable: false }])).toEqual(stored());
    expect(before).toEqual(stored());
  });

  it('marks a question not applicable where it is allowed, replacing its options', () => {
    const merged = mergeAnswers(main(), stored(), [{ questionId: 'b1', optionIds: [], notApplicable: true }]);
    expect(merged.b1).toEqual({ optionIds: [], notApplicable: true });
  });

  it('de-duplicates repeated option ids within one answer', () => {
    const merged = mergeAnswers(main(), {}, [
      { questionId: 'a1', optionIds: ['a1.1', 'a1.1'] },
      { questionId: 'a2', optionIds: ['a2.2', 'a2.0', 'a2.2'] },
    ]);
    expect(merged).toEqual(answers({ a1: ['a1.1'], a2: ['a2.2', 'a2.0'] }));
  });

  const valid: AnswerInputLike = { questionId: 'b2', optionIds: ['b2.2'] };

  it.each<[string, AnswerInputLike[], string, RegExp]>([
    ['an unknown question', [{ questionId: 'zz', optionIds: [] }], 'zz', /question zz/],
    [
      'an option of another question',
      [{ questionId: 'a1', optionIds: ['a2.0'] }],
      'a2.0',
      /^answers: option a2\.0 does not belong to question a1\.$/,
    ],
    ['a second option on a SINGLE question', [{ questionId: 'a1', optionIds: ['a1.0', 'a1.2'] }], 'a1.2', /single option/],
    ['"not applicable" where it is not allowed', [{ questionId: 'a1', optionIds: [], notApplicable: true }], 'a1', /not applicable/],
    ['"not applicable" with options', [{ questionId: 'b1', optionIds: ['b1.0'], notApplicable: true }], 'b1', /not applicable/],
    [
      'the same question twice',
      [
        { questionId: 'a1', optionIds: ['a1.1'] },
        { questionId: 'a1', optionIds: ['a1.1'] },
      ],
      'a1',
      /more than once/,
    ],
  ])('refuses %s, naming it, and merges nothing', (_what, bad, id, message) => {
    const before = stored();
    // a valid answer ahead of the bad one is not merged either
    const err = rejection(() => mergeAnswers(main(), before, [valid, ...bad]));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.details).toEqual({ field: 'answers', id });
    expect(err.message).toMatch(message);
    expect(before).toEqual(stored());
  });
});

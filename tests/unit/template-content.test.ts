import {
  bundledTemplates,
  cisSafeguardIds,
  nistSubcategoryIds,
  validateTemplateFile,
} from '../../src/modules/assessments/content';
import type { TemplateFile } from '../../src/modules/assessments/template.types';

type Question = TemplateFile['categories'][number]['questions'][number];

const nist = nistSubcategoryIds();
const cis = cisSafeguardIds();
const templates = bundledTemplates();
const bySlug = (slug: string) => {
  const template = templates.find((t) => t.slug === slug);
  if (!template) throw new Error(`no bundled template ${slug}`);
  return template;
};
const en = bySlug('smb-baseline');
const nb = bySlug('smb-baseline-nb');
const questionsOf = (template: TemplateFile) => template.categories.flatMap((c) => c.questions);
const pointsOf = (question: Question) => question.options.map((o) => o.points);
const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);

describe('framework reference lists', () => {
  it('hold the 106 active NIST CSF 2.0 subcategories and nothing else', () => {
    expect(nist.size).toBe(106);
    expect(nist.has('PR.AA-01')).toBe(true);
    expect(nist.has('PR.AA')).toBe(false); // a category
    expect(nist.has('PR.AC-01')).toBe(false); // withdrawn with CSF 1.1
  });

  it('hold the 153 CIS Controls v8 safeguard ids, compared as text', () => {
    expect(cis.size).toBe(153);
    expect(cis.has('4.1')).toBe(true);
    expect(cis.has('3.10')).toBe(true);
    expect(cis.has('4')).toBe(false); // a control
    expect([...cis].every((id) => /^\d{1,2}\.\d{1,2}$/.test(id))).toBe(true);
  });
});

describe('bundled templates', () => {
  it('are the English baseline and its Norwegian translation', () => {
    expect(templates.map((t) => [t.slug, t.locale, t.version])).toEqual([
      ['smb-baseline', 'en', 1],
      ['smb-baseline-nb', 'nb', 1],
    ]);
  });

  it.each(templates.map((t) => [t.slug, t] as const))('%s validates with no problems', (_slug, template) => {
    expect(validateTemplateFile(template, nist, cis)).toEqual([]);
  });

  it('cover at least 8 areas and 40 questions, a few of them multiple choice', () => {
    expect(en.categories.length).toBeGreaterThanOrEqual(8);
    expect(questionsOf(en).length).toBeGreaterThanOrEqual(40);
    expect(questionsOf(en).filter((q) => q.kind === 'MULTIPLE').length).toBeGreaterThanOrEqual(4);
  });

  it('have the same shape, scoring and references in both languages', () => {
    const shape = (template: TemplateFile) =>
      template.categories.map((c) => ({
        weight: c.weight,
        questions: c.questions.map((q) => ({
          kind: q.kind,
          weight: q.weight,
          allowsNotApplicable: q.allowsNotApplicable ?? false,
          nist: q.nist,
          cis: q.cis ?? [],
          points: pointsOf(q),
        })),
      }));
    expect(shape(nb)).toEqual(shape(en));
  });

  it('translate every text into Norwegian', () => {
    const texts = (template: TemplateFile) => [
      template.name,
      template.description,
      ...template.categories.flatMap((c) => [c.name, c.description]),
      ...questionsOf(template).flatMap((q) => [q.text, q.helpText, q.recommendation]),
    ];
    const english = new Set(texts(en));
    expect(texts(nb).filter((text) => english.has(text))).toEqual([]);
    const englishLabels = new Set(questionsOf(en).flatMap((q) => q.options.map((o) => o.label)));
    expect(questionsOf(nb).flatMap((q) => q.options.map((o) => o.label)).filter((label) => englishLabels.has(label))).toEqual([]);
  });

  it('cite only ids that exist in the reference lists', () => {
    const unknown = questionsOf(en).flatMap((q) => [
      ...q.nist.filter((id) => !nist.has(id)),
      ...(q.cis ?? []).filter((id) => !cis.has(id)),
    ]);
    expect(unknown).toEqual([]);
  });

  it('let the best answers reach 100% and never give 0 for everything', () => {
    const best = (q: Question) => (q.kind === 'SINGLE' ? Math.max(...pointsOf(q)) : Math.min(q.weight, sum(pointsOf(q))));
    const questions = questionsOf(en);
    expect(sum(questions.map(best))).toBe(sum(questions.map((q) => q.weight)));
    expect(questions.filter((q) => !q.options.some((o) => o.points > 0))).toEqual([]);
  });

  it('follow the authoring conventions for weights and options', () => {
    expect(en.categories.filter((c) => c.weight < 1 || c.weight > 2).map((c) => c.name)).toEqual([]);
    const offConvention = (q: Question) => {
      const points = pointsOf(q);
      if (![1, 2, 3].includes(q.weight)) return true;
      if (q.kind === 'MULTIPLE') {
        // Select all that apply: no single option earns the whole weight.
        return points.length < 3 || points.length > 6 || Math.max(...points) >= q.weight;
      }
      // From worst to best: 0 first, full weight last.
      const ascending = points.every((p, i) => i === 0 || points[i - 1] <= p);
      return points.length < 3 || points.length > 5 || !ascending || points[0] !== 0 || points.at(-1) !== q.weight;
    };
    expect(questionsOf(en).filter(offConvention).map((q) => q.text)).toEqual([]);
  });
});

describe('validateTemplateFile', () => {
  const problemsAfter = (change: (file: TemplateFile, question: Question) => void) => {
    const file = structuredClone(en);
    change(file, file.categories[0].questions[0]);
    return validateTemplateFile(file, nist, cis);
  };

  it('reports a withdrawn or unknown NIST id and an unknown CIS id', () => {
    expect(
      problemsAfter((_file, q) => {
        q.nist = ['PR.AC-01'];
        q.cis = ['3.1', '19.1'];
      }),
    ).toEqual([
      'categories[0].questions[0]: unknown NIST CSF 2.0 subcategory "PR.AC-01"',
      'categories[0].questions[0]: unknown CIS v8 safeguard "19.1"',
    ]);
  });

  it('reports a question without a NIST id', () => {
    expect(problemsAfter((_file, q) => void (q.nist = []))).toEqual([
      'categories[0].questions[0]: nist must list at least one NIST CSF 2.0 subcategory',
    ]);
  });

  it('reports points outside [0, weight]', () => {
    expect(
      problemsAfter((_file, q) => {
        q.options[0].points = -1;
        q.options.push({ label: 'More than everything', points: q.weight + 1 });
      }),
    ).toEqual([
      'categories[0].questions[0]: options[0]: points -1 are outside [0, 2]',
      'categories[0].questions[0]: options[3]: points 3 are outside [0, 2]',
    ]);
  });

  it('reports a SINGLE question without a full-points option', () => {
    expect(problemsAfter((_file, q) => void (q.options.at(-1)!.points = q.weight - 0.5))).toEqual([
      'categories[0].questions[0]: a SINGLE question needs an option worth the full weight 2',
    ]);
  });

  it('reports a MULTIPLE question whose options cannot reach the weight', () => {
    expect(
      problemsAfter((_file, q) => {
        q.kind = 'MULTIPLE';
        q.weight = 5;
      }),
    ).toEqual(['categories[0].questions[0]: the options of a MULTIPLE question add up to 3, less than the weight 5']);
  });

  it('reports the same question text twice in one template', () => {
    expect(problemsAfter((file, q) => void (file.categories[1].questions[0].text = ` ${q.text.toUpperCase()} `))).toEqual([
      'categories[1].questions[0]: the same text as categories[0].questions[0]',
    ]);
  });

  it('reports a bad header: format, slug, locale, version and name', () => {
    const file = { ...structuredClone(en), format: 'posture-template/2', slug: 'A', locale: 'de', version: 1.5, name: ' ' };
    expect(validateTemplateFile(file, nist, cis)).toEqual([
      'format is "posture-template/2", expected "posture-template/1"',
      'slug "A" must be 2 to 64 lowercase letters, digits or hyphens',
      'locale "de" must be one of en, nb',
      'version 1.5 must be a positive integer',
      'name is missing or empty',
    ]);
  });

  it('reports an unknown kind, a zero weight, empty texts and no options', () => {
    expect(
      problemsAfter((file, q) => {
        Object.assign(q, { kind: 'RANKED', recommendation: '', options: [] });
        file.categories[0].weight = 0;
        file.categories[2].questions[1].weight = 0;
      }),
    ).toEqual([
      'categories[0]: weight 0 must be a number > 0',
      'categories[0].questions[0]: kind "RANKED" must be SINGLE or MULTIPLE',
      'categories[0].questions[0]: recommendation is missing or empty',
      'categories[0].questions[0]: options must be a non-empty list',
      'categories[2].questions[1]: weight 0 must be a number > 0',
    ]);
  });

  it('rejects something that is not a template at all', () => {
    expect(validateTemplateFile(null, nist, cis)).toEqual(['the template is not a JSON object']);
    expect(validateTemplateFile({ format: 'posture-template/1' }, nist, cis)).toContain('categories must be a non-empty list');
  });
});

/**
 * Scoring of a self-assessment: pure functions over a template and its answers, no I/O, no clock.
 */
import { DomainError, ErrorCode } from '../../common/errors';
import { referencesOf, templateIndex } from './template.index';
import type {
  AnswerInputLike,
  CategoryNode,
  CategoryScoreResult,
  QuestionNode,
  RecommendationResult,
  RiskLevel,
  ScoreResult,
  StoredAnswer,
  StoredAnswers,
  TemplateLocale,
  TemplateNode,
} from './template.types';

const POWERS = [1, 10, 100, 1000, 10_000];

/**
 * Rounds half up to `decimals` places (at most 4), first dropping float noise at that scale
 * (79.94999999999999 × 10 reads as 799.5, so it rounds to 80.0).
 */
function round(value: number, decimals: number): number {
  const power = POWERS[decimals]!;
  const scaled = value * power;
  // Only a value near a half can round otherwise once the noise is gone; toPrecision, a string
  // round trip, was most of a 100-answer scoring, so the others skip it.
  const fraction = scaled - Math.floor(scaled);
  if (Math.abs(fraction - 0.5) > 1e-6 * (1 + Math.abs(scaled))) return Math.round(scaled) / power;
  return Math.round(Number(scaled.toPrecision(12))) / power;
}

const round4 = (value: number) => round(value, 4);

/** 100 × earned / max, to one decimal place: 2 of 3 gives 66.7. */
export function roundPercent(earned: number, max: number): number {
  return round((earned * 100) / max, 1);
}

/** The risk of a percentage already rounded to one decimal place. */
export function riskLevelOf(percentage: number): RiskLevel {
  if (percentage >= 80) return 'LOW';
  if (percentage >= 60) return 'MEDIUM';
  if (percentage >= 40) return 'HIGH';
  return 'CRITICAL';
}

const byOrder = <T extends { order: number }>(items: readonly T[]): T[] => [...items].sort((a, b) => a.order - b.order);

const refuse = (message: string, id: string) =>
  new DomainError(ErrorCode.BAD_USER_INPUT, `answers: ${message}`, { field: 'answers', id });

/**
 * Checks every answer against the template and returns a new map with them merged in: an answer
 * replaces the question's old one, and one with no options that is not "not applicable" clears it.
 * One bad answer refuses the whole input, so nothing is merged.
 */
export function mergeAnswers(
  template: TemplateNode,
  stored: StoredAnswers,
  input: readonly AnswerInputLike[],
): StoredAnswers {
  const { questions } = templateIndex(template);

  const seen = new Set<string>();
  const changes: Array<[string, StoredAnswer | null]> = [];
  for (const answer of input) {
    const question = questions.get(answer.questionId);
    if (!question) throw refuse(`question ${answer.questionId} is not part of this assessment.`, answer.questionId);
    if (seen.has(question.id)) throw refuse(`question ${question.id} is answered more than once.`, question.id);
    seen.add(question.id);

    const optionIds = distinct(answer.optionIds);
    if (answer.notApplicable) {
      if (!question.allowsNotApplicable) {
        throw refuse(`question ${question.id} cannot be marked not applicable.`, question.id);
      }
      if (optionIds.length > 0) {
        throw refuse(`question ${question.id} cannot be both not applicable and answered with options.`, question.id);
      }
      changes.push([question.id, { optionIds: [], notApplicable: true }]);
      continue;
    }

    for (let index = 0; index < optionIds.length; index++) {
      const optionId = optionIds[index]!;
      if (optionOf(question, optionId) === undefined) {
        throw refuse(`option ${optionId} does not belong to question ${question.id}.`, optionId);
      }
      if (question.kind === 'SINGLE' && index > 0) {
        throw refuse(`question ${question.id} takes a single option; ${optionId} is a second one.`, optionId);
      }
    }
    changes.push([question.id, optionIds.length > 0 ? { optionIds, notApplicable: false } : null]);
  }

  const merged: StoredAnswers = {};
  for (const [questionId, answer] of Object.entries(stored)) {
    merged[questionId] = { optionIds: [...answer.optionIds], notApplicable: answer.notApplicable };
  }
  for (const [questionId, answer] of changes) {
    if (answer) merged[questionId] = answer;
    else delete merged[questionId];
  }
  return merged;
}

/** The ids in order, each once (an answer holds a handful, so a scan beats a Set). */
function distinct(ids: readonly string[]): string[] {
  const out: string[] = [];
  for (const id of ids) if (!out.includes(id)) out.push(id);
  return out;
}

/** The option of a question with this id, if any. */
function optionOf(question: QuestionNode, optionId: string): QuestionNode['options'][number] | undefined {
  for (const option of question.options) if (option.id === optionId) return option;
  return undefined;
}

/** What a question earns, or null when it is (allowed to be) not applicable. */
function earnedBy(question: QuestionNode, answer: StoredAnswer | undefined): number | null {
  if (!answer) return 0;
  if (answer.notApplicable && question.allowsNotApplicable) return null;
  // Stored answers were checked when merged; a SINGLE question holding more is taken at its first
  // known option, a MULTIPLE one sums each known option once.
  let points = 0;
  const counted: string[] = [];
  for (const id of answer.optionIds) {
    if (counted.includes(id)) continue;
    const option = optionOf(question, id);
    if (option === undefined) continue;
    if (question.kind === 'SINGLE') {
      points = option.points;
      break;
    }
    counted.push(id);
    points += option.points;
  }
  return Math.min(question.weight, Math.max(0, points));
}

interface Scored {
  category: CategoryNode;
  categoryIndex: number;
  earned: number;
  max: number;
  lost: Array<{ question: QuestionNode; questionIndex: number; pointsLost: number }>;
}

/** Scores an assessment: totals, per-category results, ordered recommendations and a one-line insight. */
export function scoreAssessment(template: TemplateNode, answers: StoredAnswers): ScoreResult {
  const scored: Scored[] = byOrder(template.categories).map((category, categoryIndex) => {
    const entry: Scored = { category, categoryIndex, earned: 0, max: 0, lost: [] };
    byOrder(category.questions).forEach((question, questionIndex) => {
      const earned = earnedBy(question, answers[question.id]);
      if (earned === null) return;
      entry.earned += earned;
      entry.max += question.weight;
      const pointsLost = round4(question.weight - earned);
      if (pointsLost > 0) entry.lost.push({ question, questionIndex, pointsLost });
    });
    return entry;
  });

  const totalScore = round4(scored.reduce((sum, s) => sum + s.earned, 0));
  const maxPossibleScore = round4(scored.reduce((sum, s) => sum + s.max, 0));
  if (maxPossibleScore <= 0) {
    throw new DomainError(
      ErrorCode.BAD_USER_INPUT,
      'answers: every question is marked not applicable, so there is nothing to score.',
      { field: 'answers' },
    );
  }
  const percentageScore = roundPercent(totalScore, maxPossibleScore);

  const categoryScores: CategoryScoreResult[] = [];
  const riskOf = new Map<string, RiskLevel>();
  for (const s of scored) {
    const score = round4(s.earned);
    const maxScore = round4(s.max);
    if (maxScore <= 0) continue;
    const percentage = roundPercent(score, maxScore);
    const riskLevel = riskLevelOf(percentage);
    riskOf.set(s.category.id, riskLevel);
    categoryScores.push({ categoryId: s.category.id, score, maxScore, percentage, riskLevel });
  }

  const recommendations: RecommendationResult[] = scored
    .flatMap((s) =>
      s.lost.map(({ question, questionIndex, pointsLost }) => ({
        key: round4(pointsLost * s.category.weight),
        categoryIndex: s.categoryIndex,
        questionIndex,
        recommendation: {
          questionId: question.id,
          categoryId: s.category.id,
          // A category that lost points has a maximum above 0, so it was scored.
          priority: riskOf.get(s.category.id)!,
          title: question.text,
          detail: question.recommendation,
          references: referencesOf(question),
          pointsLost,
        },
      })),
    )
    .sort((a, b) => b.key - a.key || a.categoryIndex - b.categoryIndex || a.questionIndex - b.questionIndex)
    .map((r) => r.recommendation);

  const names = new Map(template.categories.map((c) => [c.id, c.name]));
  const insights = insightOf(
    template.locale,
    categoryScores.map((c) => ({ name: names.get(c.categoryId)!, percentage: c.percentage })),
  );

  return {
    totalScore,
    maxPossibleScore,
    percentageScore,
    riskLevel: riskLevelOf(percentageScore),
    categoryScores,
    recommendations,
    insights,
  };
}

const INSIGHT_WORDS: Record<
  TemplateLocale,
  {
    percent: (p: number) => string;
    pair: (strongest: string, weakest: string) => string;
    single: (result: string) => string;
    equal: (percent: string) => string;
  }
> = {
  en: {
    percent: (p) => `${p.toFixed(1)}%`,
    pair: (strongest, weakest) => `Strongest: ${strongest}. Weakest: ${weakest}.`,
    single: (result) => `Only one category was scored: ${result}.`,
    equal: (percent) => `Every category scored the same (${percent}).`,
  },
  nb: {
    percent: (p) => `${p.toFixed(1).replace('.', ',')} %`,
    pair: (strongest, weakest) => `Sterkest: ${strongest}. Svakest: ${weakest}.`,
    single: (result) => `Bare én kategori ble vurdert: ${result}.`,
    equal: (percent) => `Alle kategoriene fikk samme resultat (${percent}).`,
  },
};

/** One sentence naming the strongest and weakest categories; ties go to the earlier category. */
function insightOf(locale: TemplateLocale, categories: Array<{ name: string; percentage: number }>): string {
  const words = INSIGHT_WORDS[locale];
  const describe = (c: { name: string; percentage: number }) => `${c.name} (${words.percent(c.percentage)})`;
  const [first] = categories;
  if (!first) return '';
  if (categories.length === 1) return words.single(describe(first));
  let strongest = first;
  let weakest = first;
  for (const c of categories) {
    if (c.percentage > strongest.percentage) strongest = c;
    if (c.percentage < weakest.percentage) weakest = c;
  }
  if (strongest === weakest) return words.equal(words.percent(first.percentage));
  return words.pair(describe(strongest), describe(weakest));
}

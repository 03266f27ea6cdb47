import type { AssessmentRecord } from './assessment.record';
import type { AnswerType, CategoryScoreType, RecommendationType } from './assessment.type';
import { referencesOf, templateIndex } from './template.index';
import type { QuestionNode, StoredRecommendation, TemplateNode } from './template.types';

export const questionCount = (tree: TemplateNode) => templateIndex(tree).questions.size;

/** The saved answers in template order, with their questions and chosen options. */
export function answersView(record: AssessmentRecord, tree: TemplateNode): AnswerType[] {
  const { questions } = templateIndex(tree);
  const answers: AnswerType[] = [];
  for (const [questionId, answer] of Object.entries(record.answers ?? {})) {
    const question = questions.get(questionId);
    if (!question) continue;
    const chosen = new Set(answer.optionIds);
    answers.push({
      question,
      notApplicable: answer.notApplicable,
      selectedOptions: question.options.filter((o) => chosen.has(o.id)),
    } as unknown as AnswerType);
  }
  const position = (a: AnswerType) => {
    const q = a.question as unknown as QuestionNode;
    return (templateIndex(tree).categories.get(q.categoryId)?.order ?? 0) * 10_000 + q.order;
  };
  return answers.sort((a, b) => position(a) - position(b));
}

export function categoryScoresView(record: AssessmentRecord, tree: TemplateNode): CategoryScoreType[] {
  const { categories } = templateIndex(tree);
  return (record.categoryScores ?? []).flatMap((s) => {
    const category = categories.get(s.categoryId);
    return category ? [{ ...s, category } as unknown as CategoryScoreType] : [];
  });
}

/** Stored recommendations with their words and references from the template version. */
export function recommendationsView(recommendations: readonly StoredRecommendation[] | null, tree: TemplateNode): RecommendationType[] {
  const { categories, questions } = templateIndex(tree);
  return (recommendations ?? []).flatMap((r) => {
    const category = categories.get(r.categoryId);
    const question = questions.get(r.questionId);
    if (!category || !question) return [];
    return [
      {
        priority: r.priority,
        pointsLost: r.pointsLost,
        category,
        title: question.text,
        detail: question.recommendation,
        references: referencesOf(question),
      } as unknown as RecommendationType,
    ];
  });
}

/**
 * Templates as plain, immutable objects: what the catalog caches per published version, what the
 * scoring module reads and what the GraphQL types resolve from. No ORM entity crosses this line.
 */
export type QuestionKind = 'SINGLE' | 'MULTIPLE';
export type RiskLevel = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export type TemplateLocale = 'en' | 'nb';
export const TEMPLATE_LOCALES: readonly TemplateLocale[] = ['en', 'nb'];

export interface OptionNode {
  id: string;
  questionId: string;
  label: string;
  /** In [0, question weight]: an answer key, never shown to anyone but staff. */
  points: number;
  order: number;
}

export interface QuestionNode {
  id: string;
  categoryId: string;
  text: string;
  helpText: string | null;
  kind: QuestionKind;
  /** The question's maximum score. */
  weight: number;
  order: number;
  allowsNotApplicable: boolean;
  /** What to do when the question loses points; shown only in results. */
  recommendation: string;
  /** NIST CSF 2.0 subcategory ids, e.g. `PR.AA-01` (at least one). */
  nist: string[];
  /** CIS Controls v8 safeguard ids, bare, e.g. `4.1` (may be empty). */
  cis: string[];
  options: OptionNode[];
}

export interface CategoryNode {
  id: string;
  templateId: string;
  name: string;
  description: string | null;
  /** Multiplies the points a question of this category loses, to order recommendations. */
  weight: number;
  order: number;
  questions: QuestionNode[];
}

export interface TemplateNode {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  locale: TemplateLocale;
  version: number;
  status: 'DRAFT' | 'PUBLISHED';
  categories: CategoryNode[];
}

/** One question's stored answer. */
export interface StoredAnswer {
  optionIds: string[];
  notApplicable: boolean;
}

/** An assessment's answers, by question id. */
export type StoredAnswers = Record<string, StoredAnswer>;

/** An answer as a client sends it (AnswerInput). */
export interface AnswerInputLike {
  questionId: string;
  optionIds: readonly string[];
  notApplicable?: boolean | null;
}

export interface CategoryScoreResult {
  categoryId: string;
  score: number;
  maxScore: number;
  /** 100 × score / maxScore, to one decimal place. */
  percentage: number;
  riskLevel: RiskLevel;
}

export interface RecommendationResult {
  questionId: string;
  categoryId: string;
  /** The category's risk level. */
  priority: RiskLevel;
  /** The question, as the thing to fix. */
  title: string;
  /** The question's recommendation text. */
  detail: string;
  /** NIST ids first, then CIS safeguards as `CIS 4.1`. */
  references: string[];
  pointsLost: number;
}

/**
 * A recommendation as an assessment stores it: its words and references come from the template
 * version on reading (a version never changes), so each result does not carry a copy of them.
 */
export type StoredRecommendation = Pick<RecommendationResult, 'questionId' | 'categoryId' | 'priority' | 'pointsLost'>;

export const storedRecommendation = (r: RecommendationResult): StoredRecommendation => ({
  questionId: r.questionId,
  categoryId: r.categoryId,
  priority: r.priority,
  pointsLost: r.pointsLost,
});

export interface ScoreResult {
  totalScore: number;
  maxPossibleScore: number;
  percentageScore: number;
  riskLevel: RiskLevel;
  /** Categories whose maximum is 0 (everything not applicable) are left out. */
  categoryScores: CategoryScoreResult[];
  /** Ordered by points lost × category weight, largest first. */
  recommendations: RecommendationResult[];
  /** Names the strongest and the weakest categories, in the template's language. */
  insights: string;
}

/**
 * The file format of a bundled template (and, later, of import and export): `content/*.json`.
 * Ids are not in the file: the seeder gives every row a new UUID when it loads a version.
 */
export interface TemplateFile {
  format: 'posture-template/1';
  slug: string;
  locale: TemplateLocale;
  version: number;
  name: string;
  description?: string;
  categories: Array<{
    name: string;
    description?: string;
    weight: number;
    questions: Array<{
      text: string;
      helpText?: string;
      kind: QuestionKind;
      weight: number;
      allowsNotApplicable?: boolean;
      recommendation: string;
      nist: string[];
      cis?: string[];
      options: Array<{ label: string; points: number }>;
    }>;
  }>;
}

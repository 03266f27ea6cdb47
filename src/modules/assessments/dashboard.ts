import type { EntityManager } from '@mikro-orm/postgresql';
import type { Owner } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import type { AssessmentQueries } from './assessment.queries';
import type { AssessmentService } from './assessment.service';
import type { Dashboard } from './assessment.type';
import { recommendationsView } from './assessment.view';
import { roundPercent } from './scoring';
import type { TemplateCatalog } from './template.catalog';
import { templateIndex } from './template.index';

/** An industry average is shown only when this many other owners contribute, so it identifies no one. */
export const BENCHMARK_MIN_CONTRIBUTORS = 5;
const TOP_RECOMMENDATIONS = 5;

export interface DashboardDeps {
  assessments: AssessmentService;
  queries: AssessmentQueries;
  catalog: TemplateCatalog;
}

/** An account's overview: latest result, trend, category averages, open recommendations, limit, benchmark. */
export async function buildDashboard(
  em: EntityManager,
  owner: Extract<Owner, { kind: 'user' }>,
  deps: DashboardDeps,
  ctx: Pick<Context, 'loader'>,
): Promise<Dashboard> {
  const [completed, used, limit, [profile]] = await Promise.all([
    deps.queries.completed(em, owner),
    deps.assessments.countOf(em, owner),
    deps.assessments.limitOf(em, owner),
    em.execute<Array<{ industry: string | null }>>(`select industry from profiles where user_id = ?`, [owner.userId]),
  ]);
  const latest = completed.at(-1) ?? null;

  // Category averages by name, so versions of one template (and translations) line up.
  const sums = new Map<string, { total: number; n: number }>();
  for (const record of completed) {
    const tree = await deps.catalog.byId(record.templateId, ctx);
    for (const score of record.categoryScores ?? []) {
      const name = tree && templateIndex(tree).categories.get(score.categoryId)?.name;
      if (!name) continue;
      const sum = sums.get(name) ?? { total: 0, n: 0 };
      sum.total += score.percentage;
      sum.n += 1;
      sums.set(name, sum);
    }
  }

  let industryBenchmark: Dashboard['industryBenchmark'] = null;
  const industry = profile?.industry?.trim();
  if (industry) {
    const { average, contributors } = await deps.queries.industryAverage(em, industry, owner.userId);
    if (contributors >= BENCHMARK_MIN_CONTRIBUTORS) {
      industryBenchmark = { industry, averagePercentage: roundPercent(average, 100), contributors };
    }
  }

  const latestTree = latest ? await deps.catalog.byId(latest.templateId, ctx) : null;
  return {
    latest: latest as unknown as Dashboard['latest'],
    trend: completed.map((r) => ({ completedAt: r.completedAt!, percentageScore: r.percentageScore! })),
    categoryAverages: [...sums].map(([categoryName, { total, n }]) => ({ categoryName, averagePercentage: roundPercent(total / n, 100) })),
    topRecommendations: latest && latestTree ? recommendationsView(latest.recommendations, latestTree).slice(0, TOP_RECOMMENDATIONS) : [],
    assessmentsRemaining: Math.max(0, limit - used),
    industryBenchmark,
  };
}

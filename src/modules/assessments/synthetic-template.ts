import type { TemplateFile } from './template.types';

/**
 * A template of a given size with made-up content, for the tests and benchmarks that measure how
 * reads grow with size. Every SINGLE question has options worth 0 … weight; every fourth is MULTIPLE.
 */
export function syntheticTemplate(
  slug: string,
  { categories, questionsPerCategory = 10, optionsPerQuestion = 4, version = 1 }: { categories: number; questionsPerCategory?: number; optionsPerQuestion?: number; version?: number },
): TemplateFile {
  return {
    format: 'posture-template/1',
    slug,
    locale: 'en',
    version,
    name: `Synthetic ${categories}×${questionsPerCategory}`,
    description: 'Generated content for measurements.',
    categories: Array.from({ length: categories }, (_, c) => ({
      name: `Category ${c + 1}`,
      description: `What category ${c + 1} covers.`,
      weight: 1 + (c % 3) * 0.5,
      questions: Array.from({ length: questionsPerCategory }, (_, q) => {
        const multiple = q % 4 === 3;
        return {
          text: `Question ${c + 1}.${q + 1}: is the control in place?`,
          helpText: 'Generated help text.',
          kind: multiple ? ('MULTIPLE' as const) : ('SINGLE' as const),
          weight: 2,
          allowsNotApplicable: q % 5 === 4,
          recommendation: `Put control ${c + 1}.${q + 1} in place.`,
          nist: ['PR.AA-01'],
          cis: ['5.2'],
          options: Array.from({ length: optionsPerQuestion }, (_, o) => ({
            label: `Option ${o + 1}`,
            points: multiple ? 2 / (optionsPerQuestion - 1) : (2 * o) / (optionsPerQuestion - 1),
          })),
        };
      }),
    })),
  };
}

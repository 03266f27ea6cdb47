import type { CategoryNode, QuestionNode, TemplateNode } from './template.types';

/** A template tree's categories and questions by id. */
export interface TemplateIndex {
  categories: Map<string, CategoryNode>;
  questions: Map<string, QuestionNode>;
}

const indexes = new WeakMap<TemplateNode, TemplateIndex>();

/** The index of a tree, built once per tree: cached published trees are shared and frozen. */
export function templateIndex(tree: TemplateNode): TemplateIndex {
  let index = indexes.get(tree);
  if (!index) {
    index = { categories: new Map(), questions: new Map() };
    for (const c of tree.categories) {
      index.categories.set(c.id, c);
      for (const q of c.questions) index.questions.set(q.id, q);
    }
    indexes.set(tree, index);
  }
  return index;
}

/** A question's framework references: NIST CSF 2.0 ids, then CIS safeguards as `CIS 4.1`. */
export const referencesOf = (question: Pick<QuestionNode, 'nist' | 'cis'>) => [...question.nist, ...question.cis.map((id) => `CIS ${id}`)];

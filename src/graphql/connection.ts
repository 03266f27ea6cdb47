import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { badInput } from '../common/errors';
import { isUuid } from '../common/ids';

/** The largest page any list gives, and the size of a page when `first` is not given. */
export const PAGE_MAX = 100;
export const PAGE_DEFAULT = 20;

@ObjectType({ simpleResolvers: true, description: 'Where a page of a connection sits in the whole list (Relay).' })
export class PageInfo {
  @Field(() => String, { nullable: true, description: 'The cursor of the last edge; null for an empty page.' })
  endCursor!: string | null;

  @Field({ description: 'True when more edges follow: ask again with `after: endCursor`.' })
  hasNextPage!: boolean;

  @Field({ description: 'True when edges come before this page (it was asked for with `after`).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'The cursor of the first edge; null for an empty page.' })
  startCursor!: string | null;
}

/** A Relay connection as resolvers return it. */
export interface Connection<N> {
  edges: Array<{ cursor: string; node: N }>;
  pageInfo: PageInfo;
  totalCount: number;
}

/** What the schema says of one kind of connection, word for word. */
export interface ConnectionWords {
  /** Of an edge: "An assessment in a list." */
  edge: string;
  /** Of an edge's node: "The assessment." */
  node: string;
  /** Of a page: "A page of assessments, newest first (Relay connection)." */
  page: string;
  /** Of a page's edges: "The assessments of this page." */
  edges: string;
  /** Of the total: "How many assessments there are in all." */
  total: string;
}

/**
 * The GraphQL types `<name>Edge` and `<name>Connection` over a node type: every list of the API
 * has the same shape, so it is declared once.
 */
export function connectionType<N>(name: string, nodeType: () => ClassType, words: ConnectionWords): ClassType<Connection<N>> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true, description: words.edge })
  class Edge {
    @Field({ description: 'Opaque; pass it as `after` to continue after this edge.' })
    cursor!: string;

    @Field(nodeType, { description: words.node })
    node!: N;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true, description: words.page })
  class Page {
    @Field(() => [Edge], { description: words.edges })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Where this page sits.' })
    pageInfo!: PageInfo;

    @Field(() => Int, { description: words.total })
    totalCount!: number;
  }
  return Page;
}

/** The page size asked for: `first`, or the default; BAD_USER_INPUT outside 0–PAGE_MAX. */
export function pageSize(first: number | null | undefined): number {
  const size = first ?? PAGE_DEFAULT;
  if (!Number.isInteger(size) || size < 0 || size > PAGE_MAX) throw badInput('first', `first: between 0 and ${PAGE_MAX}.`);
  return size;
}

/**
 * An opaque cursor: a row's place in newest-first order, its time and id. A time given as text
 * (as PostgreSQL prints it, to the microsecond) is kept as it is, so no row is skipped or repeated.
 */
export const encodeCursor = (at: Date | string, id: string): string =>
  Buffer.from(`${typeof at === 'string' ? at : at.toISOString()}|${id}`).toString('base64url');

/** The time and id in a cursor made by encodeCursor; BAD_USER_INPUT (field `after`) for anything else. */
export function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !id || !isUuid(id) || !at || Number.isNaN(new Date(at).getTime())) {
    throw badInput('after', 'after: not a cursor from this list.');
  }
  return { at, id };
}

/** One page of records and where it sits, as connectionOf takes it. */
export interface Page<R> {
  records: R[];
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** The page in `rows`, fetched with one more than `size` to know whether more follow. */
export const pageOf = <R>(rows: readonly R[], size: number, totalCount: number, after: unknown): Page<R> => ({
  records: rows.slice(0, size),
  totalCount,
  hasNextPage: rows.length > size,
  hasPreviousPage: after != null,
});

/** A connection from one page of records (see pageOf). */
export function connectionOf<R, N>(
  page: Page<R>,
  cursor: (record: R) => string,
  node: (record: R) => N,
): Connection<N> {
  const edges = page.records.map((r) => ({ cursor: cursor(r), node: node(r) }));
  return {
    edges,
    totalCount: page.totalCount,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

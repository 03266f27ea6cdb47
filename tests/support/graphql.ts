export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }>;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

/** Posts one GraphQL operation to a running server. */
export async function postGraphQL<T = Record<string, any>>(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: { data?: T; errors?: GraphQLResponse['errors'] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON response ${res.status}: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
}

/** The error codes of a response, in order. */
export const codes = (res: GraphQLResponse) => (res.errors ?? []).map((e) => e.extensions?.code);

/** The first error code of a response (undefined when it has none). */
export const firstCode = (res: GraphQLResponse) => codes(res)[0];

/** The data of a response that must have succeeded; throws with its errors otherwise. */
export function ok<T>(res: GraphQLResponse<T>): T {
  if (res.errors?.length) throw new Error(`unexpected errors ${JSON.stringify(res.errors)}`);
  return res.data as T;
}

export const AUTH_FIELDS = 'accessToken refreshToken accessTokenExpiresAt refreshTokenExpiresAt user { id email username name emailVerified isSuperuser createdAt }';

/** Every value under a key named `key`, anywhere in a JSON tree. */
export function valuesOf(tree: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(tree)) tree.forEach((v) => valuesOf(v, key, out));
  else if (tree && typeof tree === 'object') {
    for (const [k, v] of Object.entries(tree)) {
      if (k === key) out.push(v);
      valuesOf(v, key, out);
    }
  }
  return out;
}

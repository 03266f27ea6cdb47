import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { cacheExchange, Client, fetchExchange } from '@urql/core';
import { linkToken } from '../support/smtp';
import { newAccount, startTestApp, type TestApp } from '../support/test-app';

/** Where the README's snippets keep the access token: set after logIn and refreshSession, cleared at logOut. */
interface Session {
  accessToken?: string;
}

// The clients exactly as the README sets them up, with its URL and token variable as parameters.

/** The README's `authorization()`: the header while signed in, nothing otherwise. */
const authorizationFor = (session: Session) => (): Record<string, string> =>
  session.accessToken ? { authorization: `Bearer ${session.accessToken}` } : {};

function apolloClientFor(url: string, session: Session) {
  const authorization = authorizationFor(session);
  return new ApolloClient({
    link: new SetContextLink(({ headers }) => ({ headers: { ...headers, ...authorization() } })).concat(
      new HttpLink({ uri: `${url}/graphql` }),
    ),
    cache: new InMemoryCache(),
    clientAwareness: { name: 'my-app', version: '1.0.0' },
  });
}

function urqlClientFor(url: string, session: Session) {
  const authorization = authorizationFor(session);
  return new Client({
    url: `${url}/graphql`,
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    fetchOptions: () => ({ headers: authorization() }),
  });
}

function urqlGetClientFor(url: string, session: Session) {
  const authorization = authorizationFor(session);
  return new Client({
    url: `${url}/graphql`,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: () => ({ headers: { 'apollo-require-preflight': 'true', ...authorization() } }),
  });
}

const SIGN_UP = gql`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      user {
        id
        emailVerified
      }
    }
  }
`;
const VERIFY_EMAIL = gql`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token)
  }
`;
const LOG_IN = gql`
  mutation LogIn($input: LogInInput!) {
    logIn(input: $input) {
      accessToken
      refreshToken
      user {
        id
        username
      }
    }
  }
`;
const ME = gql`
  query Me {
    me {
      id
      email
      emailVerified
    }
  }
`;
const REFRESH = gql`
  mutation Refresh($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) {
      accessToken
      refreshToken
    }
  }
`;
const LOG_OUT = gql`
  mutation LogOut($refreshToken: String) {
    logOut(refreshToken: $refreshToken)
  }
`;

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** The calls of the story, the same for every client; each answers data or the error codes. */
interface Calls {
  mutate<T>(document: typeof SIGN_UP, variables: Record<string, unknown>): Promise<{ data?: T; codes: string[] }>;
  query<T>(document: typeof ME): Promise<{ data?: T; codes: string[] }>;
}

function apolloCalls(client: ApolloClient): Calls {
  const codesOf = (error: unknown) =>
    CombinedGraphQLErrors.is(error) ? error.errors.map((e) => String(e.extensions?.code)) : error ? [String(error)] : [];
  return {
    async mutate(mutation, variables) {
      const res = await client.mutate({ mutation, variables, errorPolicy: 'all' });
      return { data: (res.data ?? undefined) as never, codes: codesOf(res.error) };
    },
    async query(query) {
      const res = await client.query({ query, fetchPolicy: 'network-only', errorPolicy: 'all' });
      return { data: (res.data ?? undefined) as never, codes: codesOf(res.error) };
    },
  };
}

function urqlCalls(client: Client): Calls {
  const codesOf = (error: { graphQLErrors: Array<{ extensions?: Record<string, unknown> }>; networkError?: Error } | undefined) =>
    error ? [...error.graphQLErrors.map((e) => String(e.extensions?.code)), ...(error.networkError ? [String(error.networkError)] : [])] : [];
  return {
    async mutate(mutation, variables) {
      const res = await client.mutation(mutation, variables).toPromise();
      return { data: (res.data ?? undefined) as never, codes: codesOf(res.error) };
    },
    async query(query) {
      const res = await client.query(query, {}, { requestPolicy: 'network-only' }).toPromise();
      return { data: (res.data ?? undefined) as never, codes: codesOf(res.error) };
    },
  };
}

/** Sign-up, verification through the emailed link, log-in, me, refresh and log-out, through one client. */
async function runStory(t: TestApp, session: Session, calls: Calls) {
  const account = newAccount('c');

  const signUp = await calls.mutate<{ signUp: { user: { id: string; emailVerified: boolean } } }>(SIGN_UP, { input: account });
  expect(signUp.codes).toEqual([]);
  expect(signUp.data!.signUp.user.emailVerified).toBe(false);
  const id = signUp.data!.signUp.user.id;

  const mail = await t.inbox.waitFor(account.email, /confirm/i);
  const verified = await calls.mutate<{ verifyEmail: boolean }>(VERIFY_EMAIL, { token: linkToken(mail, 'verify-email') });
  expect(verified).toEqual({ data: { verifyEmail: true }, codes: [] });

  const anonymous = await calls.query<{ me: null }>(ME);
  expect(anonymous).toEqual({ data: { me: null }, codes: [] });

  const logIn = await calls.mutate<{ logIn: Tokens & { user: { id: string } } }>(LOG_IN, {
    input: { usernameOrEmail: account.email.toUpperCase(), password: account.password },
  });
  expect(logIn.codes).toEqual([]);
  expect(logIn.data!.logIn.user.id).toBe(id);
  session.accessToken = logIn.data!.logIn.accessToken;

  const me = await calls.query<{ me: { id: string; email: string; emailVerified: boolean } }>(ME);
  expect(me.codes).toEqual([]);
  expect(me.data!.me).toMatchObject({ id, email: account.email, emailVerified: true });

  const refreshed = await calls.mutate<{ refreshSession: Tokens }>(REFRESH, { refreshToken: logIn.data!.logIn.refreshToken });
  expect(refreshed.codes).toEqual([]);
  const tokens = refreshed.data!.refreshSession;
  expect(tokens.refreshToken).not.toBe(logIn.data!.logIn.refreshToken);
  session.accessToken = tokens.accessToken;
  expect((await calls.query<{ me: { id: string } }>(ME)).data!.me.id).toBe(id);

  const logOut = await calls.mutate<{ logOut: boolean }>(LOG_OUT, { refreshToken: tokens.refreshToken });
  expect(logOut).toEqual({ data: { logOut: true }, codes: [] });

  // The session has ended: its access token is refused at once, and its refresh token is spent.
  expect((await calls.query(ME)).codes).toEqual(['UNAUTHENTICATED']);
  session.accessToken = undefined;
  expect(await calls.query(ME)).toEqual({ data: { me: null }, codes: [] });
  expect((await calls.mutate(REFRESH, { refreshToken: tokens.refreshToken })).codes).toEqual(['INVALID_TOKEN']);
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.stop());

it('Apollo Client 4, as the README sets it up, runs the whole story', async () => {
  const session: Session = {};
  const client = apolloClientFor(t.url, session);
  try {
    await runStory(t, session, apolloCalls(client));
  } finally {
    client.stop();
  }
});

it('urql 6 with preferGetMethod: false, as the README sets it up, runs the whole story', async () => {
  const session: Session = {};
  await runStory(t, session, urqlCalls(urqlClientFor(t.url, session)));
});

it('urql 6 with the apollo-require-preflight header, as the README sets it up, runs the whole story with queries over GET', async () => {
  const session: Session = {};
  const seen: string[] = [];
  const client = urqlGetClientFor(t.url, session);
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    seen.push(init?.method ?? 'GET');
    return original(input, init);
  };
  try {
    await runStory(t, session, urqlCalls(client));
  } finally {
    globalThis.fetch = original;
  }
  expect(seen).toContain('GET');
});

it('urql 6 at its defaults has its queries refused by CSRF prevention, which is why the README sets it up', async () => {
  const client = new Client({ url: `${t.url}/graphql`, exchanges: [cacheExchange, fetchExchange] });
  const res = await client.query(ME, {}).toPromise();
  expect(res.error?.graphQLErrors.map((e) => e.extensions?.code)).toEqual(['BAD_REQUEST']);
  expect(res.error?.message).toMatch(/Cross-Site Request Forgery|apollo-require-preflight/);
});

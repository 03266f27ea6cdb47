import { createContext, type AuthDeps, type Context } from '../../src/graphql/context';
import { User } from '../../src/modules/users/user.entity';
import { DEFAULT_TIER_ID } from '../../src/modules/tiers/tier.entity';
import { userSnapshots } from '../../src/modules/users/user.snapshot';
import { CHEAP_HASHING, createVerifiedUser, LOG_IN, REFRESH, startTestApp, type TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: CHEAP_HASHING });
});
afterAll(() => t?.stop());

type TypeRef = { kind: string; ofType: TypeRef | null };
const leafKind = (type: TypeRef): string => (type.ofType ? leafKind(type.ofType) : type.kind);

/** Every scalar field of the GraphQL User type, from the schema itself (objects such as `profile` have resolvers of their own). */
async function userFields(): Promise<string> {
  const res = await t.gql<{ __type: { fields: Array<{ name: string; type: TypeRef }> } }>(
    '{ __type(name: "User") { fields { name type { kind ofType { kind ofType { kind ofType { kind } } } } } } }',
  );
  return res.data!.__type.fields
    .filter((f) => ['SCALAR', 'ENUM'].includes(leafKind(f.type)))
    .map((f) => f.name)
    .join(' ');
}

describe('the viewer snapshot', () => {
  it('answers every User field as the entity does', async () => {
    const user = await createVerifiedUser(t, 'snap');
    const fields = await userFields();
    expect(fields).toContain('emailVerified');
    // logIn answers with the managed entity; me and refreshSession with a snapshot.
    const entity = await t.gql(`mutation ($input: LogInInput!) { logIn(input: $input) { refreshToken user { ${fields} } } }`, {
      input: { usernameOrEmail: user.username, password: user.password },
    });
    const me = await t.gql(`{ me { ${fields} } }`, {}, { token: user.tokens.accessToken });
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toEqual(entity.data!.logIn.user);
    expect(me.data!.me.emailVerified).toBe(true);
    const refreshed = await t.gql(`mutation ($t: String!) { refreshSession(refreshToken: $t) { user { ${fields} } } }`, {
      t: entity.data!.logIn.refreshToken,
    });
    expect(refreshed.data!.refreshSession.user).toEqual(entity.data!.logIn.user);
  });

  it('is a frozen User with the columns the ORM loads, and never the password hash', async () => {
    const user = await createVerifiedUser(t, 'snap');
    const snapshots = userSnapshots(t.app.orm.getMetadata());
    expect(snapshots.select('u')).not.toMatch(/password/);
    const [row] = await t.sql(`select ${snapshots.select('u')} from users u where u.id = ?`, [user.id]);
    const snapshot = snapshots.read(row as never);
    const entity = await t.app.orm.em.fork().findOneOrFail(User, user.id);

    expect(snapshot).toBeInstanceOf(User);
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(() => {
      (snapshot as { name: string }).name = 'changed';
    }).toThrow(TypeError);
    expect(snapshot.passwordHash).toBeUndefined();
    const scalars = t.app.orm
      .getMetadata()
      .get(User.name)
      .props.filter((p) => (p.kind === 'scalar' || (p.kind === 'm:1' && p.mapToPk)) && !p.lazy)
      .map((p) => p.name);
    expect(Object.keys(snapshot).sort()).toEqual([...scalars].sort());
    for (const key of scalars) expect((snapshot as unknown as Record<string, unknown>)[key]).toEqual((entity as unknown as Record<string, unknown>)[key]);
    expect(snapshot.emailVerified).toBe(true);
    expect(snapshot.tierId).toBe(DEFAULT_TIER_ID);
    const unverified = snapshots.read({ ...(row as object), emailVerifiedAt: null } as never);
    expect(unverified.emailVerified).toBe(false);
  });
});

/** Counts forks of the ORM's EntityManager made for a request context (the mail worker forks too). */
function countRequestForks(): { count(): number; restore(): void } {
  const em = t.app.orm.em;
  const fork = em.fork.bind(em);
  let n = 0;
  const spy = jest.spyOn(em, 'fork').mockImplementation((...args) => {
    if (new Error().stack?.includes('graphql/context')) n++;
    return fork(...args);
  });
  return { count: () => n, restore: () => spy.mockRestore() };
}

describe('the request EntityManager', () => {
  it('is forked only by requests that use it, and still serves mutations', async () => {
    const user = await createVerifiedUser(t, 'lazy');
    const forks = countRequestForks();
    try {
      const me = await t.gql('{ me { id } }', {}, { token: user.tokens.accessToken });
      expect(me.data).toEqual({ me: { id: user.id } });
      expect(forks.count()).toBe(0);

      const login = await t.gql(LOG_IN, { input: { usernameOrEmail: user.username, password: user.password } });
      expect(login.errors).toBeUndefined();
      expect(forks.count()).toBe(1);
      const refreshed = await t.gql(REFRESH, { t: login.data!.logIn.refreshToken });
      expect(refreshed.data!.refreshSession.user.id).toBe(user.id);
      expect(forks.count()).toBe(2);
    } finally {
      forks.restore();
    }
  });

  it('survives the copy Apollo makes of the context: one fork per copy that uses it', () => {
    const forks = countRequestForks();
    try {
      const ctx = createContext(t.app.orm.em, { ip: '127.0.0.1', requestId: 'r' }, undefined, {} as AuthDeps);
      // What Apollo does with the value the context function returns (cloneObject).
      const copy = Object.assign(Object.create(Object.getPrototypeOf(ctx) as object) as Context, ctx);
      expect(forks.count()).toBe(0);
      expect(copy.em).toBe(copy.em);
      expect(copy.em).not.toBe(t.app.orm.em);
      expect(forks.count()).toBe(1);
      expect(copy.meta.ip).toBe('127.0.0.1');
      expect(copy.auth).toBe(ctx.auth);
    } finally {
      forks.restore();
    }
  });
});

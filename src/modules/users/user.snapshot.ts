import type { EntityMetadata, MetadataStorage, OptionalProps } from '@mikro-orm/core';
import { User } from './user.entity';

type Stored = Omit<User, 'passwordHash' | 'emailVerified' | 'totpEnabled' | typeof OptionalProps>;

/** A users row as `UserSnapshots.select` returns it: keyed by property; raw SQL may give dates as strings. */
export type UserRow = { [K in keyof Stored]: Stored[K] extends Date ? Date | string : Stored[K] extends Date | null ? Date | string | null : Stored[K] };

interface Column {
  property: string;
  field: string;
  isDate: boolean;
}

/**
 * Read-only Users from raw rows, outside the ORM's identity map: the authenticated user is read on
 * every request, and hydrating a managed entity cost about a tenth of a small request. The columns
 * and their mapping come from the entity's metadata, so the entity is the one description of the
 * users table. A snapshot is frozen, so a write meant for the database fails loudly: load the
 * entity through the EntityManager to change it.
 *
 * A snapshot is an instance of User, because type-graphql resolves a getter field (emailVerified)
 * on an instance of the class and would otherwise build a `new User()` for it on every request.
 * But the ORM puts a setter for every property on User.prototype, which wraps the object as a
 * managed entity when assigned: the snapshot's own prototype shadows those with plain data
 * properties, so building one is a few plain stores.
 */
export class UserSnapshots {
  /** Every scalar column the ORM loads by default (so never the lazy, hidden password hash). */
  private readonly columns: readonly Column[];
  private readonly selects = new Map<string, string>();
  private readonly prototype: object;

  constructor(meta: EntityMetadata<User>) {
    this.columns = meta.props
      .filter((p) => (p.kind === 'scalar' || (p.kind === 'm:1' && p.mapToPk)) && !p.lazy && !p.hidden && p.persist !== false && p.fieldNames?.length === 1)
      .map((p) => ({ property: p.name, field: p.fieldNames[0]!, isDate: p.runtimeType === 'Date' }));
    const shadows = this.columns.map((c): [string, PropertyDescriptor] => [c.property, { value: undefined, writable: true }]);
    this.prototype = Object.create(User.prototype, Object.fromEntries(shadows)) as object;
  }

  /** The select list over the users table aliased `alias`, each column named after its property. */
  select(alias: string): string {
    let list = this.selects.get(alias);
    if (list === undefined) {
      list = this.columns.map((c) => `${alias}."${c.field}" as "${c.property}"`).join(', ');
      this.selects.set(alias, list);
    }
    return list;
  }

  /**
   * The same columns as one json object (`json_build_object`), for the statements run on nearly
   * every request: pg then describes and parses one column instead of a dozen, which cost a fifth
   * of the session check's client side. Dates arrive as ISO strings, which `read` turns into Dates.
   */
  selectJson(alias: string): string {
    return `json_build_object(${this.columns.map((c) => `'${c.property}', ${alias}."${c.field}"`).join(', ')})`;
  }

  /** A snapshot of the user in `row` (which may hold other columns too). */
  read(row: UserRow): Readonly<User> {
    const source = row as unknown as Record<string, unknown>;
    // Object.create skips the entity's field initializers (a random id, dates) that would be overwritten.
    const user = Object.create(this.prototype) as Record<string, unknown>;
    for (const { property, isDate } of this.columns) {
      const value = source[property];
      user[property] = isDate && value !== null && !(value instanceof Date) ? new Date(value as string) : value;
    }
    return Object.freeze(user) as unknown as Readonly<User>;
  }
}

const byMetadata = new WeakMap<MetadataStorage, UserSnapshots>();

/** The snapshot mapping of an ORM's discovered metadata (`orm.getMetadata()`, `em.getMetadata()`), built once. */
export function userSnapshots(metadata: MetadataStorage): UserSnapshots {
  let snapshots = byMetadata.get(metadata);
  if (!snapshots) {
    snapshots = new UserSnapshots(metadata.get<User>(User.name));
    byMetadata.set(metadata, snapshots);
  }
  return snapshots;
}

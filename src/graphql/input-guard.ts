import {
  getNullableType,
  isInputObjectType,
  isListType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
} from 'graphql';
import { Extensions } from 'type-graphql';
import { badInput } from '../common/errors';

/** Marks an input field as a secret (a password): only U+0000 is refused in it, since any other character may be part of one. */
export const Secret = () => Extensions({ secret: true });

/**
 * Marks arguments of a field as secrets, by name, as Secret does for input fields: type-graphql
 * gives arguments no extensions of their own, so the field carries the list.
 */
export const SecretArguments = (...names: string[]) => Extensions({ secretArguments: names });

const secretArgumentsOf = (field: GraphQLField<unknown, unknown>): readonly string[] => {
  const names = field.extensions?.secretArguments;
  return Array.isArray(names) ? (names as string[]) : [];
};

/**
 * Bounds a string input field's length (UTF-16 code units), checked with the characters below so
 * that an oversized value is refused before any work. It only bounds the payload: the rules of a
 * value (format, policy) live in the services.
 */
export const MaxLength = (max: number) => Extensions({ maxLength: max });

const NUL = '\u0000';
// Unicode Cc (C0, DEL and C1) but tab and newline: invisible in logs and emails, and a way to smuggle lines.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

const isSecret = (definition: GraphQLArgument | GraphQLInputField) => definition.extensions?.secret === true;
const maxLengthOf = (definition: GraphQLArgument | GraphQLInputField) => {
  const max = definition.extensions?.maxLength;
  return typeof max === 'number' ? max : undefined;
};

function checkString(value: string, field: string, secret: boolean, maxLength?: number): void {
  if (maxLength !== undefined && value.length > maxLength) throw badInput(field, `${field}: must be at most ${maxLength} characters.`);
  // PostgreSQL text cannot hold U+0000: refused everywhere, before it reaches a query.
  if (value.includes(NUL)) throw badInput(field, 'Must not contain the NUL character (U+0000).');
  if (!secret && CONTROL.test(value)) throw badInput(field, 'Must not contain control characters other than tab and newline.');
}

const isPlainObject = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** A value still to check: its input type when the schema gives one, and the name errors give it. */
interface Pending {
  value: unknown;
  type: GraphQLInputType | undefined;
  field: string;
  secret: boolean;
  /** The declared bound of a string here (see MaxLength); not inherited by what is nested. */
  maxLength?: number;
}

/**
 * Refuses NUL in every string of a field's arguments, and other control characters except tab and
 * newline in every string that is not declared secret. Throws BAD_USER_INPUT naming the argument
 * or input field. Walks the values with the argument types (lists, input objects), and any other
 * object (a JSON scalar, or a variable not coerced yet) as it is, with a stack rather than
 * recursion, so no depth of nesting can overflow it.
 */
export function guardArguments(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): void {
  // Popped in argument order, depth first, so the first offending field is the one named.
  const secretArguments = secretArgumentsOf(field);
  const stack: Pending[] = field.args
    .map((a) => ({ value: args[a.name], type: a.type, field: a.name, secret: isSecret(a) || secretArguments.includes(a.name), maxLength: maxLengthOf(a) }))
    .reverse();
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, field: name, secret } = next;
    if (typeof value === 'string') {
      checkString(value, name, secret, next.maxLength);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const type = next.type && getNullableType(next.type);
    const pending: Pending[] = [];
    if (type && isListType(type)) {
      // A single value given for a list is coerced to a list of one; either shape is walked.
      for (const item of Array.isArray(value) ? value : [value]) pending.push({ value: item, type: type.ofType, field: name, secret });
    } else if (type && isInputObjectType(type) && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      for (const inner of Object.values(type.getFields())) {
        pending.push({ value: record[inner.name], type: inner.type, field: inner.name, secret: isSecret(inner), maxLength: maxLengthOf(inner) });
      }
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push({ value: item, type: undefined, field: name, secret });
    } else if (isPlainObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        checkString(key, name, secret);
        pending.push({ value: item, type: undefined, field: name, secret });
      }
    }
    for (let i = pending.length - 1; i >= 0; i--) stack.push(pending[i]!);
  }
}

import { DomainError } from '../../src/common/errors';

/** The DomainError a rule throws, so that its code and field can be asserted. */
export function rejection(rule: () => unknown): DomainError {
  try {
    rule();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error('expected the rule to reject the input');
}

/** `[code, field]` of the DomainError `fn` throws, any other error as it is, or 'no error': for `toEqual`. */
export function fieldOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err instanceof DomainError ? [err.code, err.details.field] : err;
  }
  return 'no error';
}

import { Client } from 'pg';

const textOf = (args: unknown[]): string => {
  const [first] = args;
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && 'text' in first) return String((first as { text: unknown }).text);
  return '<unknown>';
};

/**
 * The statements sent on pg connections of this process while `fn` runs, with its result. The app
 * under test runs in this process, so every statement it sends goes through pg's Client#query,
 * which is wrapped for the duration. Timers' statements (marked `/* background *\/` in their text,
 * such as the tier-limits poll) are nobody's request and are left out.
 */
export async function statementsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const original = Client.prototype.query;
  const statements: string[] = [];
  (Client.prototype as { query: unknown }).query = function counted(this: Client, ...args: unknown[]) {
    const text = textOf(args);
    if (!text.startsWith('/* background */')) statements.push(text);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  try {
    return { result: await fn(), statements };
  } finally {
    Client.prototype.query = original;
  }
}

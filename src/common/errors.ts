/** Every error code a client can see in `extensions.code`. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  EMAIL_NOT_VERIFIED: 'EMAIL_NOT_VERIFIED',
  INVALID_TOKEN: 'INVALID_TOKEN',
  /** The first factor was right; the account wants its second step (`extensions.challenge`, for completeMfaLogIn). */
  MFA_REQUIRED: 'MFA_REQUIRED',
  ASSESSMENT_LIMIT_REACHED: 'ASSESSMENT_LIMIT_REACHED',
  /** An OpenID provider cannot be reached (down, slow, or answering nonsense): `extensions.retryAfter`. */
  PROVIDER_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * A failure the client may see: a code from the registry, a safe message and optional details.
 * Expected outcomes (wrong password, busy, rate limited), so no stack trace is captured: under a
 * flood of refusals, building stacks was a measurable share of the CPU.
 */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
}

export const badInput = (field: string, message: string) =>
  new DomainError(ErrorCode.BAD_USER_INPUT, message, { field });

export const invalidToken = () => new DomainError(ErrorCode.INVALID_TOKEN, 'The token is invalid or has expired.');

export const invalidCredentials = () =>
  new DomainError(ErrorCode.INVALID_CREDENTIALS, 'Invalid username, email or password.');

export const unauthenticated = (message = 'You must be signed in.') =>
  new DomainError(ErrorCode.UNAUTHENTICATED, message);

export const notFound = (what: string, field?: string) =>
  new DomainError(ErrorCode.NOT_FOUND, `${what} not found.`, field ? { field } : {});

export const conflict = (message: string, details: Record<string, unknown> = {}) => new DomainError(ErrorCode.CONFLICT, message, details);

/** A pacing or rate limit: `retryAfter` is the seconds to wait, as the rate limiter reports it. */
export const rateLimited = (message: string, retryAfter: number) =>
  new DomainError(ErrorCode.RATE_LIMITED, message, { retryAfter: Math.max(1, Math.ceil(retryAfter)) });

export const busy = () =>
  new DomainError(ErrorCode.RATE_LIMITED, 'The server is busy; try again in a moment.', { retryAfter: 1 });

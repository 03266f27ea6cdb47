import { randomUUID } from 'node:crypto';
import { HeaderMap } from '@apollo/server';
import { ApolloServerErrorCode, unwrapResolverError } from '@apollo/server/errors';
import {
  ConstraintViolationException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError, ErrorCode } from '../common/errors';
import type { Logger } from '../logger';

// Codes that graphql-js, Apollo and our request gates give errors about the request itself (parsing,
// validation, variables, persisted queries, limits). Those messages describe the request, never
// the server, so they pass through.
const REQUEST_ERROR_CODES: ReadonlySet<unknown> = new Set<string>([
  ...Object.values(ApolloServerErrorCode),
  ...Object.values(ErrorCode),
].filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR));

/** RATE_LIMITED for a whole request refused before execution: HTTP 429 with Retry-After. */
export const rateLimitedError = (message: string, retryAfter: number) =>
  new GraphQLError(message, {
    extensions: {
      code: ErrorCode.RATE_LIMITED,
      retryAfter,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfter)]]) },
    },
  });

type Formatted = GraphQLFormattedError;
const shape = (formatted: Formatted, message: string, extensions: Record<string, unknown>): Formatted => ({
  message,
  ...(formatted.locations ? { locations: formatted.locations } : {}),
  ...(formatted.path ? { path: formatted.path } : {}),
  extensions,
});

// graphql-js appends " Did you mean …?" to the message (validation, variable coercion, enum values).
const SUGGESTION = / ?Did you mean .+\?$/;

/**
 * The single place where errors become what clients see: domain errors keep their code, request
 * errors pass, and anything else is logged with an id and shown as INTERNAL_SERVER_ERROR. With
 * `hideSuggestions` (production), no message suggests a name from the schema.
 */
export function createFormatError(logger: Logger, options: { hideSuggestions: boolean }) {
  const format = formatWith(logger);
  if (!options.hideSuggestions) return format;
  // Apollo's hideSchemaDetailsFromClientErrors strips validation errors only; variable coercion
  // happens later, in execution, so every message is stripped here.
  return (formatted: Formatted, error: unknown): Formatted => {
    const shown = format(formatted, error);
    return SUGGESTION.test(shown.message) ? { ...shown, message: shown.message.replace(SUGGESTION, '') } : shown;
  };
}

function formatWith(logger: Logger) {
  return (formatted: Formatted, error: unknown): Formatted => {
    const original = unwrapResolverError(error);

    if (original instanceof DomainError) {
      return shape(formatted, original.message, { ...original.details, code: original.code });
    }
    if (original instanceof UniqueConstraintViolationException) {
      return shape(formatted, 'This conflicts with existing data.', { code: ErrorCode.CONFLICT });
    }
    if (original instanceof NotNullConstraintViolationException || original instanceof ConstraintViolationException) {
      return shape(formatted, 'The input is not acceptable.', { code: ErrorCode.BAD_USER_INPUT });
    }
    const code = formatted.extensions?.code;
    if (original instanceof GraphQLError && REQUEST_ERROR_CODES.has(code)) {
      const { http: _http, stacktrace: _stack, exception: _exception, ...rest } = formatted.extensions ?? {};
      return shape(formatted, formatted.message, rest);
    }

    const errorId = randomUUID();
    logger.error({ err: original, errorId, path: formatted.path }, 'unexpected error');
    return shape(formatted, 'Internal server error.', { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId });
  };
}

// Field values shared by endpoint configs, legacy webhooks and the Data API config (§3, §10, §14.1).
import type { HttpMethod, ReturnType, ValidationMethod } from './types';

export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', '*'];
export const VALIDATION_METHODS: readonly ValidationMethod[] = ['NO_VALIDATION', 'SECRET_AS_QUERY_PARAM', 'VERIFY_PAYLOAD'];

/** `ANY` is the UI's label for `*` (and the legacy webhook spelling); case is not significant. */
export function parseHttpMethod(value: string): HttpMethod | undefined {
  const upper = value.trim().toUpperCase();
  const method = upper === 'ANY' ? '*' : upper;
  return (HTTP_METHODS as readonly string[]).includes(method) ? (method as HttpMethod) : undefined;
}

/** Empty means "not set" (Data API configs write ""), which is NO_VALIDATION. */
export function parseValidationMethod(value: string): ValidationMethod | undefined {
  const upper = value.trim().toUpperCase();
  if (upper === '') return 'NO_VALIDATION';
  return (VALIDATION_METHODS as readonly string[]).includes(upper) ? (upper as ValidationMethod) : undefined;
}

export function parseReturnType(value: string): ReturnType | undefined {
  const upper = value.trim().toUpperCase();
  if (upper === '') return 'JSON';
  return upper === 'JSON' || upper === 'EJSON' ? upper : undefined;
}

export function needsSecret(method: ValidationMethod): boolean {
  return method === 'SECRET_AS_QUERY_PARAM' || method === 'VERIFY_PAYLOAD';
}

// Request validation (§10): SECRET_AS_QUERY_PARAM and VERIFY_PAYLOAD, compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EndpointDef } from '../app';
import { ServiceError } from '../platform';
import { headerValues, queryValues } from './request-data';
import type { IncomingRequestData } from '../runtime';

const AUTH_FAILED = 'IncomingWebhookAuthFailed';

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  // Compare digests so that neither the length nor the content of the secret leaks through timing.
  const ha = createHmac('sha256', 'atrium-compare').update(a).digest();
  const hb = createHmac('sha256', 'atrium-compare').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** The secret value an endpoint validates against, or undefined when it is not configured. */
export function endpointSecret(ep: EndpointDef, secrets: Record<string, string>): string | undefined {
  if (ep.legacyWebhook?.secretValue !== undefined) return ep.legacyWebhook.secretValue;
  return ep.secretName ? secrets[ep.secretName] : undefined;
}

/** Throws an ServiceError when the request fails the endpoint's validation method. */
export function validateRequest(ep: EndpointDef, req: IncomingRequestData, secrets: Record<string, string>): void {
  if (ep.validationMethod === 'NO_VALIDATION') return;
  const secret = endpointSecret(ep, secrets);
  if (secret === undefined) {
    throw new ServiceError(500, 'InternalServerError', `secret "${ep.secretName ?? ''}" for this endpoint is not configured on the server`);
  }
  if (ep.validationMethod === 'SECRET_AS_QUERY_PARAM') {
    const given = queryValues(req.rawQuery, 'secret');
    if (given.length === 0) throw new ServiceError(401, AUTH_FAILED, 'invalid secret: the "secret" query parameter is required');
    if (new Set(given).size > 1) throw new ServiceError(400, 'InvalidParameter', 'the "secret" query parameter was given more than once with different values');
    if (!constantTimeEqual(Buffer.from(given[0], 'utf8'), Buffer.from(secret, 'utf8'))) {
      throw new ServiceError(401, AUTH_FAILED, 'invalid secret');
    }
    return;
  }
  // VERIFY_PAYLOAD: Endpoint-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>; legacy webhooks used X-Hook-Signature.
  let values = headerValues(req.headers, 'endpoint-signature');
  if (values.length === 0 && ep.legacyWebhook) values = headerValues(req.headers, 'x-hook-signature');
  if (values.length === 0) throw new ServiceError(401, AUTH_FAILED, 'expected an Endpoint-Signature header (sha256=<hex>)');
  if (new Set(values).size > 1) throw new ServiceError(400, 'InvalidParameter', 'the Endpoint-Signature header was given more than once with different values');
  const expected = createHmac('sha256', secret).update(req.body ?? new Uint8Array(0)).digest();
  const match = /^:?\s*sha256=([0-9a-fA-F]{64})$/i.exec(values[0].trim());
  if (!match) throw new ServiceError(401, AUTH_FAILED, 'invalid Endpoint-Signature: expected "sha256=<64 hex digits>"');
  const given = Buffer.from(match[1], 'hex');
  if (!constantTimeEqual(given, expected)) throw new ServiceError(401, AUTH_FAILED, 'invalid Endpoint-Signature: the signature does not match the request body');
}

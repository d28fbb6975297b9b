// Auth failures carry the App Services status and error_code (§8.3); the HTTP layer renders {error, error_code, link}.
import { ServiceError } from '../platform';

/** A ServiceError raised by auth (its own class, so callers can tell auth refusals from other failures). */
export class AuthError extends ServiceError {
  override name = 'AuthError';
}

/** §8.3: application auth and no credential at all. */
export const noCredentials = (): AuthError => new AuthError(400, 'InvalidParameter', 'no authentication methods were specified');

/** §8.3: a credential was started but not completed (email without password, ...). */
export const partialCredentials = (): AuthError =>
  new AuthError(400, 'MissingParameter', 'must specify some form of authentication (either email+password, api-key, or jwt) in the request header or body');

/** §8.3: valid credentials but no user (and create_user_on_auth off), or a Bearer token that is not a live session. */
export const noUserForEndpoint = (): AuthError => new AuthError(401, 'InvalidSession', 'invalid session: error finding user for endpoint');

export const badRequest = (message: string): AuthError => new AuthError(400, 'BadRequest', message);
export const invalidParameter = (message: string): AuthError => new AuthError(400, 'InvalidParameter', message);
export const invalidSession = (message: string): AuthError => new AuthError(401, 'InvalidSession', `invalid session: ${message}`);
export const userDisabled = (): AuthError => new AuthError(401, 'UserDisabled', 'user disabled');
export const providerUnavailable = (what: string): AuthError => new AuthError(401, 'AuthProviderNotFound', `authentication via '${what}' is unsupported`);

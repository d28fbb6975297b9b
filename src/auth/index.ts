// Application authentication (§9): users, providers, credential headers, tokens and sessions, the client auth API.
export { AuthService } from './service';
export type { AuthOptions } from './service';
export { CLIENT_API_PREFIX } from './client-api';
export { AuthAdmin } from './admin';
export type { UserSummary, PendingRegistration } from './admin';
export { AuthError } from './errors';
export type { ThrottleOptions } from './throttle';
export type { CustomUserDataReader } from './users';
export type { RunFunction } from './functions';
export { hashPassword, verifyPassword } from './passwords';

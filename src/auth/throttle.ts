// Login throttling (policies.md): failed logins are counted per account and per client address inside a sliding
// window, in the shared store so every instance sees them. Past the limit, 429 with Retry-After until the oldest
// failure leaves the window. A successful login clears its account's count (not the address's).
import type { PlatformStore } from '../platform';
import { AuthError } from './errors';

export interface ThrottleOptions {
  /** Failures allowed per account inside the window (default 10). */
  maxFailuresPerAccount?: number;
  /** Failures allowed per client address inside the window (default 100). */
  maxFailuresPerIp?: number;
  /** Window length in seconds (default 900). */
  windowSec?: number;
}

export class LoginThrottle {
  private readonly perAccount: number;
  private readonly perIp: number;
  private readonly windowMs: number;

  constructor(
    private readonly store: PlatformStore,
    opts: ThrottleOptions = {},
  ) {
    this.perAccount = opts.maxFailuresPerAccount ?? 10;
    this.perIp = opts.maxFailuresPerIp ?? 100;
    this.windowMs = (opts.windowSec ?? 900) * 1000;
  }

  static accountKey(provider: string, account: string): string {
    return `account:${provider}:${account}`;
  }

  static ipKey(ip: string): string {
    return `ip:${ip}`;
  }

  /** Throws 429 when the account or the address is over its limit. */
  async check(ip: string, accountKey?: string): Promise<void> {
    const now = Date.now();
    const since = now - this.windowMs;
    const checks: Array<[string, number]> = [[LoginThrottle.ipKey(ip), this.perIp]];
    if (accountKey !== undefined) checks.push([accountKey, this.perAccount]);
    for (const [key, limit] of checks) {
      const { count, oldest } = await this.store.countFailures(key, since);
      if (count >= limit) {
        const retryAfter = Math.max(1, Math.ceil(((oldest ?? now) + this.windowMs - now) / 1000));
        throw new AuthError(429, 'TooManyRequests', `too many failed login attempts; try again in ${retryAfter} seconds`, [['Retry-After', String(retryAfter)]]);
      }
    }
  }

  async failed(ip: string, accountKey?: string): Promise<void> {
    const now = Date.now();
    await this.store.recordFailure(LoginThrottle.ipKey(ip), now);
    if (accountKey !== undefined) await this.store.recordFailure(accountKey, now);
  }

  async succeeded(accountKey?: string): Promise<void> {
    if (accountKey !== undefined) await this.store.clearFailures(accountKey);
  }
}

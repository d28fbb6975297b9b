// Email/password (§9.5 local-userpass): registration, confirmation (autoConfirm, a confirmation function, or an
// operator), password reset (a reset function, or a token), and login. Emails are matched case-insensitively.
// Atrium sends no email: where App Services would mail a link, the token is stored and the user stays pending until
// a confirmation function or an operator (`atrium users confirm`) confirms it.
import { ObjectId } from 'bson';
import type { AuthProviderDef } from '../../app/types';
import { DuplicateKeyError } from '../../platform';
import type { UserpassRecord } from '../../platform';
import { AuthError, badRequest, invalidParameter } from '../errors';
import { callFunction } from '../functions';
import { burnPasswordCheck, hashPassword, passwordProblem, verifyPassword } from '../passwords';
import { hashToken, randomHex, sameHash } from '../secrets';
import { LoginThrottle } from '../throttle';
import type { LoadedUser, VerifiedIdentity } from '../users';
import type { ProviderContext } from './context';
import { configBool, configString } from './context';

const TOKEN_TTL_MS = 30 * 60 * 1000;
const PROVIDER_TYPE = 'local-userpass';

export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

function checkEmail(email: string): string {
  const trimmed = email.trim();
  if (trimmed.length === 0 || trimmed.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(trimmed)) throw badRequest('email invalid');
  return trimmed;
}

const invalidCredentials = (): AuthError => new AuthError(401, 'InvalidPassword', 'invalid username/password');
const tokenInvalid = (): AuthError => new AuthError(400, 'UserpassTokenInvalid', 'userpass token is expired or invalid');
const userNotFound = (): AuthError => new AuthError(404, 'UserNotFound', 'user not found');

type FunctionStatus = 'success' | 'pending' | 'fail';

function functionStatus(result: unknown, fnName: string): FunctionStatus {
  const status = typeof result === 'object' && result !== null ? (result as { status?: unknown }).status : undefined;
  if (status === 'success' || status === 'pending' || status === 'fail') return status;
  throw new AuthError(400, 'FunctionExecutionError', `function "${fnName}" must return {status: "success" | "pending" | "fail"}`);
}

export class LocalUserpassProvider {
  constructor(
    private readonly ctx: ProviderContext,
    readonly def: AuthProviderDef,
  ) {}

  /** Checks email + password (throttled per account and address) and returns the confirmed user's identity. */
  async verify(email: string, password: string, ip: string): Promise<VerifiedIdentity> {
    const key = emailKey(email);
    const account = LoginThrottle.accountKey(PROVIDER_TYPE, key);
    await this.ctx.throttle.check(ip, account);
    const rec = await this.ctx.store.getUserpass(key);
    if (!rec) {
      await burnPasswordCheck(password);
      await this.ctx.throttle.failed(ip, account);
      throw invalidCredentials();
    }
    if (!(await verifyPassword(password, rec.passwordHash))) {
      await this.ctx.throttle.failed(ip, account);
      throw invalidCredentials();
    }
    await this.ctx.throttle.succeeded(account);
    if (rec.status !== 'confirmed' || !rec.userId) throw new AuthError(401, 'AuthError', 'confirmation required');
    return { providerName: this.def.name, providerType: PROVIDER_TYPE, externalId: rec.credentialId, data: { email: rec.email }, userId: rec.userId };
  }

  async register(emailRaw: string, password: string): Promise<void> {
    const rec = await this.newRecord(emailRaw, password);
    if (configBool(this.def, 'autoConfirm')) {
      await this.confirmRecord(rec);
      return;
    }
    if (configBool(this.def, 'runConfirmationFunction')) {
      await this.runConfirmation(rec, true);
      return;
    }
    // App Services would email a confirmation link here; keep a token so a later confirmation can use it.
    await this.newToken(rec.emailKey, 'confirm');
  }

  /** POST .../confirm {token, tokenId} */
  async confirm(token: string, tokenId: string): Promise<void> {
    const rec = await this.redeem(token, tokenId, 'confirm');
    if (rec.status === 'confirmed') return;
    await this.confirmRecord(rec);
  }

  /** POST .../confirm/send {email}: a new confirmation token (no email is sent by Atrium). */
  async resendConfirmation(email: string): Promise<void> {
    const rec = await this.pending(email);
    await this.newToken(rec.emailKey, 'confirm');
  }

  /** POST .../confirm/call {email}: runs the confirmation function again for a pending user. */
  async retryConfirmation(email: string): Promise<void> {
    if (!configBool(this.def, 'runConfirmationFunction')) throw badRequest('this provider does not use a confirmation function');
    await this.runConfirmation(await this.pending(email), false);
  }

  /** POST .../reset/send {email}: a reset token (App Services would email it; Atrium stores it only). */
  async sendReset(email: string): Promise<void> {
    const rec = await this.ctx.store.getUserpass(emailKey(email));
    if (!rec) throw userNotFound();
    await this.newToken(rec.emailKey, 'reset');
  }

  /** POST .../reset/call {email, password, arguments}: the reset function decides. */
  async callReset(email: string, password: string, args: unknown[]): Promise<void> {
    if (!configBool(this.def, 'runResetFunction')) throw badRequest('this provider does not use a password reset function');
    const problem = passwordProblem(password);
    if (problem) throw badRequest(problem);
    const rec = await this.ctx.store.getUserpass(emailKey(email));
    if (!rec) throw userNotFound();
    const fnName = configString(this.def, 'resetFunctionName');
    if (!fnName) throw badRequest('resetFunctionName is not configured');
    const { token, tokenId } = await this.newToken(rec.emailKey, 'reset');
    const currentPasswordValid = await verifyPassword(password, rec.passwordHash);
    const result = await callFunction(this.ctx.run, { name: fnName, args: [{ token, tokenId, username: rec.email, password, currentPasswordValid }, ...args] });
    const status = functionStatus(result, fnName);
    if (status === 'fail') {
      await this.ctx.store.takeToken(tokenId);
      throw new AuthError(400, 'AuthError', 'password reset failed: the reset function refused it');
    }
    if (status === 'success') {
      await this.ctx.store.takeToken(tokenId);
      await this.setPassword(rec, password);
    }
  }

  /** POST .../reset {token, tokenId, password} */
  async reset(token: string, tokenId: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw badRequest(problem);
    const rec = await this.redeem(token, tokenId, 'reset');
    await this.setPassword(rec, password);
  }

  /** Operator path (`atrium users create`): a confirmed user at once. */
  async createConfirmed(emailRaw: string, password: string): Promise<LoadedUser> {
    const rec = await this.newRecord(emailRaw, password);
    return this.confirmRecord(rec);
  }

  /** Operator path (`atrium users confirm`). */
  async confirmByEmail(email: string): Promise<LoadedUser> {
    const rec = await this.ctx.store.getUserpass(emailKey(email));
    if (!rec) throw userNotFound();
    if (rec.status === 'confirmed' && rec.userId) {
      const loaded = await this.ctx.users.load(rec.userId);
      if (loaded) return loaded;
    }
    return this.confirmRecord(rec);
  }

  /** A pending account; 409 when the email is taken. */
  private async newRecord(emailRaw: string, password: string): Promise<UserpassRecord> {
    const email = checkEmail(emailRaw);
    const problem = passwordProblem(password);
    if (problem) throw badRequest(problem);
    const rec: UserpassRecord = {
      emailKey: emailKey(email),
      email,
      credentialId: new ObjectId().toHexString(),
      userId: null,
      passwordHash: await hashPassword(password),
      status: 'pending',
      createdAt: Date.now(),
    };
    try {
      await this.ctx.store.createUserpass(rec);
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new AuthError(409, 'AccountNameInUse', 'name already in use');
      throw err;
    }
    return rec;
  }

  private async pending(email: string): Promise<UserpassRecord> {
    const rec = await this.ctx.store.getUserpass(emailKey(email));
    if (!rec) throw userNotFound();
    if (rec.status === 'confirmed') throw new AuthError(409, 'UserAlreadyConfirmed', 'already confirmed');
    return rec;
  }

  private async runConfirmation(rec: UserpassRecord, deleteOnFail: boolean): Promise<void> {
    const fnName = configString(this.def, 'confirmationFunctionName');
    if (!fnName) throw badRequest('confirmationFunctionName is not configured');
    const { token, tokenId } = await this.newToken(rec.emailKey, 'confirm');
    let status: FunctionStatus;
    try {
      status = functionStatus(await callFunction(this.ctx.run, { name: fnName, args: [{ token, tokenId, username: rec.email }] }), fnName);
    } catch (err) {
      if (deleteOnFail) await this.ctx.store.deleteUserpass(rec.emailKey);
      throw err;
    }
    if (status === 'success') {
      await this.ctx.store.takeToken(tokenId);
      await this.confirmRecord(rec);
    } else if (status === 'fail') {
      await this.ctx.store.takeToken(tokenId);
      if (deleteOnFail) await this.ctx.store.deleteUserpass(rec.emailKey);
      throw new AuthError(400, 'AuthError', 'user confirmation failed: the confirmation function refused it');
    }
    // 'pending': the function delivered {token, tokenId}; the client confirms later.
  }

  private async confirmRecord(rec: UserpassRecord): Promise<LoadedUser> {
    const loaded = await this.ctx.users.create({
      providerName: this.def.name,
      providerType: PROVIDER_TYPE,
      externalId: rec.credentialId,
      data: { email: rec.email },
    });
    await this.ctx.store.updateUserpass(rec.emailKey, { status: 'confirmed', userId: loaded.user.id });
    return loaded;
  }

  private async setPassword(rec: UserpassRecord, password: string): Promise<void> {
    await this.ctx.store.updateUserpass(rec.emailKey, { passwordHash: await hashPassword(password) });
    // A changed password ends every open session of the account.
    if (rec.userId) await this.ctx.store.deleteSessionsOfUser(rec.userId);
  }

  private async newToken(key: string, kind: 'confirm' | 'reset'): Promise<{ token: string; tokenId: string }> {
    const token = randomHex(32);
    const tokenId = randomHex(12);
    await this.ctx.store.putToken({ id: tokenId, emailKey: key, kind, tokenHash: hashToken(token), expiresAt: Date.now() + TOKEN_TTL_MS });
    return { token, tokenId };
  }

  private async redeem(token: string, tokenId: string, kind: 'confirm' | 'reset'): Promise<UserpassRecord> {
    if (!/^[0-9a-f]{24}$/.test(tokenId)) throw invalidParameter('invalid tokenId');
    const t = await this.ctx.store.takeToken(tokenId);
    if (!t || t.kind !== kind || t.expiresAt < Date.now() || !sameHash(t.tokenHash, hashToken(token))) throw tokenInvalid();
    const rec = await this.ctx.store.getUserpass(t.emailKey);
    if (!rec) throw tokenInvalid();
    return rec;
  }
}

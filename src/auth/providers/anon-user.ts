// Anonymous users (§9.5 anon-user): every login creates a new user with a random identity.
import { ObjectId } from 'bson';
import type { AuthProviderDef } from '../../app/types';
import type { VerifiedIdentity } from '../users';

export function anonymousIdentity(def: AuthProviderDef): VerifiedIdentity {
  return { providerName: def.name, providerType: 'anon-user', externalId: new ObjectId().toHexString(), data: {} };
}

// The `utils` global (utils.crypto, utils.jwt) (§11.4). Frozen and shared: it holds no per-app state.
import { createCryptoUtils } from './crypto';
import { createJwtUtils } from './jwt';

export interface UtilsGlobal {
  crypto: Readonly<Record<string, Function>>;
  jwt: Readonly<Record<string, Function>>;
}

let utils: Readonly<UtilsGlobal> | undefined;

export function createUtilsGlobal(): Readonly<UtilsGlobal> {
  return (utils ??= Object.freeze({ crypto: createCryptoUtils(), jwt: createJwtUtils() }));
}

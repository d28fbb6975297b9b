// PLACEHOLDER (owned by the globals work): the `utils` global (utils.crypto, utils.jwt) (§11.4).
export function createUtilsGlobal(): { crypto: Record<string, unknown>; jwt: Record<string, unknown> } {
  return { crypto: {}, jwt: {} };
}

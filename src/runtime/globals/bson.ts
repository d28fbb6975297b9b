// PLACEHOLDER (owned by the globals work): the BSON and EJSON globals handed to functions (§11.4).
export function createBSONGlobal(): Record<string, unknown> {
  return {};
}
export function createEJSONGlobal(): Record<string, unknown> {
  return {};
}

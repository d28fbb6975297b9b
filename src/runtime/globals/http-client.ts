// PLACEHOLDER (owned by the globals work): context.http (§11.2).
export function createHttpClient(): Record<string, (opts: Record<string, unknown>) => Promise<unknown>> {
  return {};
}

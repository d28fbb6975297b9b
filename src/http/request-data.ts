// Small readers over the raw request data the HTTP layer collects (header pairs, raw query string).

/** All values of a header (case-insensitive name) from raw header pairs. */
export function headerValues(headers: ReadonlyArray<[string, string]>, lowerName: string): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) if (k.length === lowerName.length && k.toLowerCase() === lowerName) out.push(v);
  return out;
}

export function firstHeader(headers: ReadonlyArray<[string, string]>, lowerName: string): string | undefined {
  for (const [k, v] of headers) if (k.length === lowerName.length && k.toLowerCase() === lowerName) return v;
  return undefined;
}

/** All values of a query parameter, decoded, from a raw query string (no leading '?'). */
export function queryValues(rawQuery: string, name: string): string[] {
  if (!rawQuery) return [];
  const out: string[] = [];
  for (const [k, v] of new URLSearchParams(rawQuery)) if (k === name) out.push(v);
  return out;
}

/** Folds node's rawHeaders ([k, v, k, v, ...]) into pairs. */
export function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = new Array(raw.length >> 1);
  for (let i = 0, j = 0; i < raw.length; i += 2, j++) out[j] = [raw[i], raw[i + 1]];
  return out;
}

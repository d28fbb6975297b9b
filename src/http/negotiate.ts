// §7.3: the response format is the endpoint's return_type unless the Accept header asks for
// application/json or application/ejson; anything else (missing, */*, text/html) keeps the default.
import type { ReturnType } from '../app';

export function negotiateReturnType(defaultType: ReturnType, accept: string | undefined): ReturnType {
  if (!accept) return defaultType;
  let best: ReturnType | null = null;
  let bestQ = 0;
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.split(';');
    const type = rawType.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'application/ejson') continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim() === 'q') q = Number(v);
    }
    if (!(q > 0)) continue;
    if (q > bestQ) {
      bestQ = q;
      best = type === 'application/ejson' ? 'EJSON' : 'JSON';
    }
  }
  return best ?? defaultType;
}

// What this instance checked in the store a moment ago (sessions, API keys, users), reused for a short time so that
// a stream of requests does not read the store for each one. Bounded: past `limit` entries the oldest goes.

export class Recent<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  /** ttlMs 0 remembers nothing (every lookup misses). */
  constructor(
    private readonly ttlMs: number,
    private readonly limit = 10_000,
  ) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.until > Date.now()) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    if (!this.entries.has(key) && this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Keys whose value matches, expired or not (to forget them). */
  keysWhere(match: (value: V) => boolean): string[] {
    const out: string[] = [];
    for (const [key, e] of this.entries) if (match(e.value)) out.push(key);
    return out;
  }
}

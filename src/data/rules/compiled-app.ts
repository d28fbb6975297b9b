// Compiled rules per loaded app, once per thread: the AppDefinition object a worker holds is the cache key, so a
// reloaded app (a new object) is compiled afresh and the old one is collected with it.
import type { AppDefinition } from '../../app/types';
import { compileDataSourceRules } from './compile-rules';
import type { CompiledDataSourceRules, RuleProblem } from './rule-types';

export interface CompiledAppRules {
  /** By data source (service) name. A service with no data_sources folder has no rules at all. */
  byService: Map<string, CompiledDataSourceRules>;
  problems: RuleProblem[];
}

const cache = new WeakMap<AppDefinition, CompiledAppRules>();

export function compileAppRules(app: AppDefinition): CompiledAppRules {
  let compiled = cache.get(app);
  if (!compiled) {
    const problems: RuleProblem[] = [];
    const byService = new Map<string, CompiledDataSourceRules>();
    for (const def of app.dataSources) byService.set(def.name, compileDataSourceRules(def, problems));
    compiled = { byService, problems };
    cache.set(app, compiled);
  }
  return compiled;
}

/** The rules of one data source; an empty rule set (every user operation refused) when the app has none. */
export function rulesForService(app: AppDefinition, serviceName: string): CompiledDataSourceRules {
  return compileAppRules(app).byService.get(serviceName) ?? { serviceName, collections: new Map() };
}

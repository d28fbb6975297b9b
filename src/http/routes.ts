// Route table for /app/<appId>/endpoint/<route>: exact, case-sensitive match on the route; the key is (route, method),
// and a specific method beats '*' (§3.2).
import type { EndpointDef, HttpMethod } from '../app';

export interface RouteEntry {
  byMethod: Map<string, EndpointDef>;
  any?: EndpointDef;
}

export type RouteMatch =
  | { kind: 'found'; endpoint: EndpointDef }
  | { kind: 'no-route' }
  | { kind: 'no-method'; allowed: string[] };

export class RouteTable {
  private readonly routes = new Map<string, RouteEntry>();

  constructor(endpoints: readonly EndpointDef[]) {
    for (const ep of endpoints) {
      let entry = this.routes.get(ep.route);
      if (!entry) {
        entry = { byMethod: new Map() };
        this.routes.set(ep.route, entry);
      }
      // The loader reports duplicates; the first definition wins here too.
      if (ep.httpMethod === '*') entry.any ??= ep;
      else if (!entry.byMethod.has(ep.httpMethod)) entry.byMethod.set(ep.httpMethod, ep);
    }
  }

  /** HEAD is answered by the GET endpoint (without a body). */
  match(route: string, method: string): RouteMatch {
    const entry = this.routes.get(route);
    if (!entry) return { kind: 'no-route' };
    const key = method === 'HEAD' ? 'GET' : method;
    const ep = entry.byMethod.get(key) ?? entry.any;
    if (ep) return { kind: 'found', endpoint: ep };
    return { kind: 'no-method', allowed: [...entry.byMethod.keys()] as HttpMethod[] };
  }
}

// Template expansion in config string fields (§2.3): `%(%%environment.values.<name>)` is replaced at load
// time with the selected environment's value. Only this form is documented; `%%values` etc. are left alone
// (they are runtime expansions inside rule expressions, not load-time templates).
import { fieldPath, type ProblemList } from './problems';
import { hasOwn, isObject, putOwn } from './fields';

const TEMPLATE = /%\(%%environment\.values\.([^)]*)\)/g;
const WHOLE = /^%\(%%environment\.values\.([^)]*)\)$/;

export class TemplateExpander {
  constructor(
    private readonly envValues: Record<string, unknown>,
    private readonly envFile: string,
    private readonly problems: ProblemList,
  ) {}

  /** Returns a copy of `value` with every template in its string leaves expanded; `at` is the path of `value` in `file`. */
  expand(value: unknown, file: string, at = ''): unknown {
    if (typeof value === 'string') return this.expandString(value, file, at);
    if (Array.isArray(value)) return value.map((v, i) => this.expand(v, file, fieldPath(at, i)));
    if (isObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) putOwn(out, k, this.expand(v, file, fieldPath(at, k)));
      return out;
    }
    return value;
  }

  private expandString(s: string, file: string, at: string): unknown {
    if (!s.includes('%(')) return s;
    // A field that is exactly one template takes the value as is (a string in every documented case).
    const whole = WHOLE.exec(s);
    if (whole) return this.lookup(whole[1] as string, file, at) ?? s;
    return s.replace(TEMPLATE, (match: string, name: string) => {
      const v = this.lookup(name, file, at);
      if (v === undefined) return match;
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }

  private lookup(name: string, file: string, at: string): unknown {
    if (hasOwn(this.envValues, name) && this.envValues[name] !== undefined) return this.envValues[name];
    this.problems.error(file, at || undefined, `template %(%%environment.values.${name}) names a value that ${this.envFile} does not define; left unexpanded`);
    return undefined;
  }
}

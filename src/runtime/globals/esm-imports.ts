// ES-module syntax in function files (issue 3 item 5): App Services ran `exports = ...` scripts, but some
// exported apps contain `import x from "pkg"` lines (and `export default`). Those simple top-level forms are
// rewritten into require() calls in place, keeping every line number.
//
// Handled: import x from "m"; import * as x from "m"; import {a, b as c} from "m"; import x, {a} from "m";
// import x, * as y from "m"; import "m"; export default <expr>; `export` before a declaration is dropped.
// Anything else is left as it is.

const IMPORT_RE = /^([ \t]*)import[ \t]+(?:([\w$*{][^;'"`]*?)[ \t\r\n]*from[ \t]*)?(['"])([^'"\r\n]+)\3[ \t]*;?/gm;
const EXPORT_DEFAULT_RE = /^([ \t]*)export[ \t]+default[ \t]+/gm;
/** `export` in front of a declaration: dropped so the file compiles (the name stays a local helper). */
const EXPORT_DECL_RE = /^([ \t]*)export[ \t]+(?=(?:async[ \t]+)?function\b|const\b|let\b|var\b|class\b)/gm;
const IDENT_RE = /^[A-Za-z_$][\w$]*$/;

/** `default` interop that works for CommonJS, transpiled ESM (__esModule) and require(esm) namespaces. */
const INTEROP = '(function (m) { return m && (m.__esModule || Object.prototype.toString.call(m) === "[object Module]") ? m.default : m; })';

function namedBindings(list: string): string | null {
  const inner = list.trim();
  if (!inner.startsWith('{') || !inner.endsWith('}')) return null;
  const parts = inner.slice(1, -1).split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const out: string[] = [];
  for (const part of parts) {
    const m = /^([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(part);
    if (!m) return null;
    const [, imported, local] = m;
    if (!IDENT_RE.test(imported!) || (local !== undefined && !IDENT_RE.test(local))) return null;
    out.push(local === undefined || local === imported ? imported! : `${imported}: ${local}`);
  }
  return `{ ${out.join(', ')} }`;
}

function rewriteClause(clause: string, spec: string, index: number): string | null {
  const req = `require(${JSON.stringify(spec)})`;
  const c = clause.trim();
  let m = /^\*\s+as\s+([\w$]+)$/.exec(c);
  if (m && IDENT_RE.test(m[1]!)) return `const ${m[1]} = ${req};`;
  if (c.startsWith('{')) {
    const named = namedBindings(c);
    return named === null ? null : `const ${named} = ${req};`;
  }
  if (IDENT_RE.test(c)) return `const ${c} = ${INTEROP}(${req});`;
  m = /^([\w$]+)\s*,\s*([\s\S]+)$/.exec(c);
  if (m && IDENT_RE.test(m[1]!)) {
    const tmp = `__atrium_import_${index}`;
    const rest = m[2]!.trim();
    const star = /^\*\s+as\s+([\w$]+)$/.exec(rest);
    const second = star && IDENT_RE.test(star[1]!) ? `const ${star[1]} = ${tmp};` : (() => {
      const named = namedBindings(rest);
      return named === null ? null : `const ${named} = ${tmp};`;
    })();
    if (second === null) return null;
    return `const ${tmp} = ${req}; const ${m[1]} = ${INTEROP}(${tmp}); ${second}`;
  }
  return null;
}

/** Rewrites the simple import/export-default forms into require()/exports; null when the source has none. */
export function transformEsmImports(source: string): string | null {
  let changed = false;
  let index = 0;
  let out = source.replace(IMPORT_RE, (whole: string, indent: string, clause: string | undefined, _q: string, spec: string) => {
    const code = clause === undefined ? `require(${JSON.stringify(spec)});` : rewriteClause(clause, spec, index++);
    if (code === null) return whole;
    changed = true;
    // Keep the line count: a multi-line import becomes one line followed by the same number of newlines.
    const newlines = whole.split('\n').length - 1;
    return indent + code + '\n'.repeat(newlines);
  });
  out = out.replace(EXPORT_DEFAULT_RE, (_whole: string, indent: string) => {
    changed = true;
    return `${indent}exports = `;
  });
  out = out.replace(EXPORT_DECL_RE, (_whole: string, indent: string) => {
    changed = true;
    return indent;
  });
  return changed ? out : null;
}

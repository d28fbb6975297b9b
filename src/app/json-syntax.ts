// Finds where a JSON text stops being valid, with a short reason. JSON.parse's own messages sometimes
// quote the file's content (which may be a secret) and sometimes give no position at all, so problems
// are reported from this scanner instead. It only runs after JSON.parse has failed.

export interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  reason: string;
}

class Failure {
  constructor(readonly offset: number, readonly reason: string) {}
}

export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new Failure(at, reason);
  };
  const skipWhitespace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const describe = (): string => (i >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[i])}`);

  const parseString = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c < 0x20) fail('control character inside a string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in a string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          fail('bad escape in a string');
        }
        continue;
      }
      i++;
    }
  };

  const parseNumber = (): void => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0] === '') fail('bad number');
    i += (m as RegExpExecArray)[0].length;
  };

  const parseValue = (): void => {
    skipWhitespace();
    const c = text[i];
    if (c === '{') {
      i++;
      skipWhitespace();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        skipWhitespace();
        if (text[i] !== '"') fail(`expected a double-quoted property name, found ${describe().replace('unexpected ', '')}`);
        parseString();
        skipWhitespace();
        if (text[i] !== ':') fail(`expected ':' after a property name, ${describe()}`);
        i++;
        parseValue();
        skipWhitespace();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail(`expected ',' or '}' after a property value, ${describe()}`);
      }
    }
    if (c === '[') {
      i++;
      skipWhitespace();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        parseValue();
        skipWhitespace();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail(`expected ',' or ']' after an array element, ${describe()}`);
      }
    }
    if (c === '"') return parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) { i += word.length; return; }
    }
    fail(describe());
  };

  try {
    parseValue();
    skipWhitespace();
    if (i < text.length) fail('unexpected content after the JSON value');
    return null;
  } catch (err) {
    if (err instanceof Failure) return { ...lineAndColumn(text, err.offset), offset: err.offset, reason: err.reason };
    if (err instanceof RangeError) return { ...lineAndColumn(text, i), offset: i, reason: 'nested too deeply' };
    throw err;
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') { line++; lineStart = k + 1; }
  }
  return { line, column: offset - lineStart + 1 };
}

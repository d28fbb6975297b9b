// console as functions see it: every call becomes one log line of its invocation (App Services keeps the
// first 512 bytes of each of the last 25 calls). Nothing reaches the server's stdout.
import { format, inspect } from 'node:util';

export const MAX_LOG_LINES = 25;
export const MAX_LOG_LINE_BYTES = 512;

export class LogBuffer {
  private readonly ring: string[] = [];

  push(line: string): void {
    if (this.ring.length === MAX_LOG_LINES) this.ring.shift();
    this.ring.push(truncateUtf8(line, MAX_LOG_LINE_BYTES));
  }

  lines(): string[] {
    return this.ring.slice();
  }
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // Each UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no measuring.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

export interface FunctionConsole {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  dir(value: unknown): void;
}

/** A console whose every method writes one formatted line through `write`. Methods work detached (`[].forEach(console.log)`). */
export function createFunctionConsole(write: (line: string) => void): FunctionConsole {
  const line = (...args: unknown[]): void => write(formatLine(args));
  return {
    log: line,
    info: line,
    warn: line,
    error: line,
    debug: line,
    trace: line,
    dir: (value: unknown) => write(safeInspect(value)),
  };
}

function formatLine(args: unknown[]): string {
  try {
    return format(...args);
  } catch (err) {
    return `[console argument could not be formatted: ${err instanceof Error ? err.message : String(err)}]`;
  }
}

function safeInspect(value: unknown): string {
  try {
    return inspect(value);
  } catch {
    return '[value could not be inspected]';
  }
}

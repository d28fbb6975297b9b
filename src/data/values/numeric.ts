// Exact comparison of BSON numbers across types (double, int32, int64, decimal128), as MongoDB compares them:
// by mathematical value, NaN equal to NaN and below every other number. Values are turned into exact rationals
// (BigInt numerator/denominator) only when a fast double comparison cannot be trusted.
import { bsonTypeTag } from './kinds';

export type Exact = { t: 'nan' } | { t: 'inf'; neg: boolean } | { t: 'fin'; num: bigint; den: bigint };

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function exactFromDouble(x: number): Exact {
  if (Number.isNaN(x)) return { t: 'nan' };
  if (!Number.isFinite(x)) return { t: 'inf', neg: x < 0 };
  if (Number.isInteger(x) && Number.isSafeInteger(x)) return { t: 'fin', num: BigInt(x), den: 1n };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const neg = hi >>> 31 === 1;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  if (neg) mant = -mant;
  return e >= 0 ? { t: 'fin', num: mant << BigInt(e), den: 1n } : { t: 'fin', num: mant, den: 1n << BigInt(-e) };
}

function exactFromDecimalString(s: string): Exact {
  if (s === 'NaN' || s === '-NaN') return { t: 'nan' };
  if (s === 'Infinity' || s === '+Infinity') return { t: 'inf', neg: false };
  if (s === '-Infinity') return { t: 'inf', neg: true };
  const m = DECIMAL_RE.exec(s);
  if (!m) return { t: 'nan' };
  const frac = m[3] ?? '';
  let num = BigInt(m[2] + frac);
  if (m[1] === '-') num = -num;
  const exp = Number(m[4] ?? '0') - frac.length;
  return exp >= 0 ? { t: 'fin', num: num * 10n ** BigInt(exp), den: 1n } : { t: 'fin', num, den: 10n ** BigInt(-exp) };
}

/** True for JS numbers and bigints and for the bson number classes. */
export function isNumeric(v: unknown): boolean {
  if (typeof v === 'number' || typeof v === 'bigint') return true;
  if (typeof v !== 'object' || v === null) return false;
  const tag = bsonTypeTag(v);
  return tag === 'Int32' || tag === 'Double' || tag === 'Long' || tag === 'Decimal128';
}

/** The value as a double (what JS code would see); Long/Decimal128 may round. */
export function toDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const tag = bsonTypeTag(v as object);
  if (tag === 'Long') return (v as { toNumber(): number }).toNumber();
  if (tag === 'Decimal128') return Number(String(v));
  return Number((v as { valueOf(): unknown }).valueOf());
}

export function toExact(v: unknown): Exact {
  if (typeof v === 'number') return exactFromDouble(v);
  if (typeof v === 'bigint') return { t: 'fin', num: v, den: 1n };
  const tag = bsonTypeTag(v as object);
  if (tag === 'Long') return { t: 'fin', num: (v as { toBigInt(): bigint }).toBigInt(), den: 1n };
  if (tag === 'Decimal128') return exactFromDecimalString(String(v));
  return exactFromDouble(toDouble(v));
}

function compareExact(a: Exact, b: Exact): number {
  if (a.t === 'nan') return b.t === 'nan' ? 0 : -1;
  if (b.t === 'nan') return 1;
  if (a.t === 'inf') {
    if (b.t === 'inf') return a.neg === b.neg ? 0 : a.neg ? -1 : 1;
    return a.neg ? -1 : 1;
  }
  if (b.t === 'inf') return b.neg ? 1 : -1;
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** Can this value be compared as a double without losing exactness? */
function isPlainDouble(v: unknown): boolean {
  if (typeof v === 'number') return true;
  if (typeof v !== 'object' || v === null) return false;
  const tag = bsonTypeTag(v);
  return tag === 'Int32' || tag === 'Double';
}

export function compareNumeric(a: unknown, b: unknown): number {
  if (isPlainDouble(a) && isPlainDouble(b)) {
    const x = toDouble(a);
    const y = toDouble(b);
    if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
    if (Number.isNaN(y)) return 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareExact(toExact(a), toExact(b));
}

/**
 * A canonical text for numbers that a double cannot hold exactly (big int64, most decimals), so that equal values
 * of different BSON types get the same index key; null when the value is exactly a double.
 */
export function exactSuffix(v: unknown): string | null {
  if (isPlainDouble(v)) return null;
  const e = toExact(v);
  if (e.t !== 'fin') return null;
  const d = toDouble(v);
  if (compareExact(e, exactFromDouble(d)) === 0) return null;
  // Reduce num/den (den is a power of 2 or 10 here) to a canonical "coefficient e exponent" decimal form.
  let num = e.num;
  let exp = 0;
  let den = e.den;
  while (den % 10n === 0n) {
    den /= 10n;
    exp--;
  }
  if (den !== 1n) return `${e.num}/${e.den}`;
  while (num !== 0n && num % 10n === 0n) {
    num /= 10n;
    exp++;
  }
  return `${num}e${exp}`;
}

// BSON value handling shared by the client, the embedded store and the query engine.
export { bsonTypeTag, isDateValue, isPlainObject, isRegExpValue, kindOf, KIND_RANK } from './kinds';
export type { Kind } from './kinds';
export { compareNumeric, exactSuffix, isNumeric, toDouble } from './numeric';
export { bsonEquals, compareBson, compareStrings, EMPTY_ARRAY, parseSort, sortDocuments, valuesAtPath } from './compare';
export type { PathValues, SortKey } from './compare';
export { comparisonRange, encodeCompoundKey, encodeKey, equalityRange, prefixSuccessor, TYPE_BYTE } from './key-encoding';
export type { KeyRange } from './key-encoding';
export { toHostDocument, toHostDocumentArray, toHostValue } from './host';
export { cloneDocument, decodeDocument, decodeTypedDocument, encodeDocument, MAX_BSON_SIZE, toDriverShape } from './codec';

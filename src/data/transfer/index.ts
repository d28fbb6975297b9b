// Moving documents in and out of a data source (`atrium data import|export`).
export { InputError, readDocuments } from './document-reader';
export type { ParsedDocument } from './document-reader';
export { ProgressBar } from './progress';

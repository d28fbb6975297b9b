// MongoDB query/update/aggregation semantics (mingo with BSON-aware operators), shared by the embedded store
// and (later) the rules layer, which needs to evaluate filters and compute post-update documents itself.
export { checkPipeline, checkProjection, compileFilter, mingoCall, numbersForAggregation, project, runPipeline } from './engine';
export type { CollectionResolver, CompiledFilter } from './engine';
export { bsonTypeAlias } from './operators';
export { applyReplacement, applyUpdate, buildUpsertDocument, classifyUpdate, upsertSeed } from './update';
export type { ApplyOptions, UpdateKind } from './update';

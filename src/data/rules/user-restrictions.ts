// What App Services refuses to application users (spec §11.3, "CRUD & Aggregation APIs"): some query operators,
// some aggregation stages and the $function/$accumulator operators. Checked before anything runs.
// $regex is allowed (see docs/rules.md: the docs list it as system-only, real apps use it, allowing it cannot
// break an app that worked).
import { isPlainObject } from '../values';
import type { Document } from '../types';
import { systemOnlyFeature } from './errors';

const USER_QUERY_OPERATORS: Record<string, string> = {
  $where: 'the $where query operator',
  $expr: 'the $expr query operator',
  $jsonSchema: 'the $jsonSchema query operator',
  $text: 'the $text query operator',
  $near: 'the $near geospatial operator',
  $nearSphere: 'the $nearSphere geospatial operator',
  $geoWithin: 'the $geoWithin geospatial operator',
  $geoIntersects: 'the $geoIntersects geospatial operator',
  $bitsAllClear: 'the $bitsAllClear bitwise operator',
  $bitsAllSet: 'the $bitsAllSet bitwise operator',
  $bitsAnyClear: 'the $bitsAnyClear bitwise operator',
  $bitsAnySet: 'the $bitsAnySet bitwise operator',
};

const USER_STAGES = new Set([
  '$collStats', '$currentOp', '$facet', '$geoNear', '$graphLookup', '$indexStats', '$merge', '$out', '$listSessions',
  '$listLocalSessions', '$planCacheStats', '$changeStream', '$searchMeta',
]);

const PIPELINE_OPERATORS: Record<string, string> = {
  $function: 'the $function aggregation operator',
  $accumulator: 'the $accumulator aggregation operator',
  $where: 'the $where query operator',
};

function scan(v: unknown, refused: Record<string, string>, depth: number): void {
  if (depth > 200) return;
  if (Array.isArray(v)) {
    for (const e of v) scan(e, refused, depth + 1);
    return;
  }
  if (!isPlainObject(v)) return;
  for (const [k, e] of Object.entries(v as Document)) {
    if (k in refused) throw systemOnlyFeature(refused[k]);
    scan(e, refused, depth + 1);
  }
}

/** Refuses query operators App Services allows only in system functions. */
export function checkUserQuery(filter: Document): void {
  scan(filter, USER_QUERY_OPERATORS, 0);
}

/** Refuses stages and operators App Services allows only in system functions ($lookup and $unionWith are allowed). */
export function checkUserPipeline(pipeline: Document[]): void {
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0];
    if (name !== undefined && USER_STAGES.has(name)) throw systemOnlyFeature(`the ${name} aggregation stage`);
    scan(stage, PIPELINE_OPERATORS, 0);
    if (name === '$lookup' || name === '$unionWith') {
      const spec = stage[name];
      if (isPlainObject(spec) && Array.isArray((spec as Document).pipeline)) checkUserPipeline((spec as { pipeline: Document[] }).pipeline);
    }
  }
}

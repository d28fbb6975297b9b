// The mingo modules used by the engine. They are loaded through mingo's package "exports" subpaths (the base
// classes, which take our own operator Context as is); TypeScript's node10 resolution cannot see those
// subpaths, so the types come from mingo's declaration files directly.
/* eslint-disable @typescript-eslint/no-var-requires */
import type * as AggregatorModule from 'mingo/types/aggregator';
import type * as CoreModule from 'mingo/types/core';
import type * as LazyModule from 'mingo/types/lazy';
import type * as AccumulatorOps from 'mingo/types/operators/accumulator';
import type * as ExpressionOps from 'mingo/types/operators/expression';
import type * as PipelineOps from 'mingo/types/operators/pipeline';
import type * as ProjectionOps from 'mingo/types/operators/projection';
import type * as QueryOps from 'mingo/types/operators/query';
import type * as WindowOps from 'mingo/types/operators/window';
import type * as QueryModule from 'mingo/types/query';
import type * as UpdaterModule from 'mingo/types/updater';
import type * as UtilModule from 'mingo/types/util';

export const core = require('mingo/core') as typeof CoreModule;
export const queryModule = require('mingo/query') as typeof QueryModule;
export const aggregatorModule = require('mingo/aggregator') as typeof AggregatorModule;
export const updaterModule = require('mingo/updater') as typeof UpdaterModule;
export const lazyModule = require('mingo/lazy') as typeof LazyModule;
export const util = require('mingo/util') as typeof UtilModule;
export const queryOperators = require('mingo/operators/query') as typeof QueryOps;
export const projectionOperators = require('mingo/operators/projection') as typeof ProjectionOps;
export const expressionOperators = require('mingo/operators/expression') as typeof ExpressionOps;
export const pipelineOperators = require('mingo/operators/pipeline') as typeof PipelineOps;
export const accumulatorOperators = require('mingo/operators/accumulator') as typeof AccumulatorOps;
export const windowOperators = require('mingo/operators/window') as typeof WindowOps;

export type MingoContext = CoreModule.Context;

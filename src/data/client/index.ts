// The App Services MongoDB client API handed to user functions (§11.3), over any DataSource.
export { MongoServiceClient, MongoDatabase, ClientSession } from './service-client';
export { MongoCollection, BulkOpBuilder } from './collection';
export { AggregationCursor, DataCursor, FindCursor, isDataCursor } from './cursor';

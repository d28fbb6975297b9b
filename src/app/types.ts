// The typed, plain-data form of an exported App Services app directory.
// `app/` produces it once; `http/`, `runtime/` and `data/` consume it and never read the directory again.
// Everything here must survive structured clone (it is handed to worker threads as workerData).

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | '*';
export type ValidationMethod = 'NO_VALIDATION' | 'SECRET_AS_QUERY_PARAM' | 'VERIFY_PAYLOAD';
export type ReturnType = 'JSON' | 'EJSON';

/** A problem found while loading: always names the file (relative to the app dir) and, when known, the field. */
export interface AppProblem {
  level: 'error' | 'warning';
  file: string;
  field?: string;
  message: string;
}

export interface EndpointDef {
  /** Always starts with '/'; case preserved; matched exactly. */
  route: string;
  httpMethod: HttpMethod;
  functionName: string;
  validationMethod: ValidationMethod;
  /** Secret name for SECRET_AS_QUERY_PARAM / VERIFY_PAYLOAD. */
  secretName?: string;
  respondResult: boolean;
  fetchCustomUserData: boolean;
  createUserOnAuth: boolean;
  disabled: boolean;
  returnType: ReturnType;
  /** Where it was defined, relative to the app dir, e.g. `https_endpoints/config.json[3]`. */
  definedIn: string;
  /** Legacy incoming webhook (services/<svc>/incoming_webhooks/<name>): plain-text secret from options.secret. */
  legacyWebhook?: { service: string; name: string; secretValue?: string };
}

export interface FunctionDef {
  /** Manifest name; '/' separates folders (`utils/add` is `functions/utils/add.js`). */
  name: string;
  /** Source file relative to the app dir. */
  file: string;
  /** The JavaScript source as written (`exports = ...`). */
  source: string;
  private: boolean;
  runAsSystem: boolean;
  runAsUserId: string;
  runAsUserIdScriptSource: string;
  /** Rule expression; `{}` means always allowed. */
  canEvaluate: Record<string, unknown>;
  disableArgLogs: boolean;
}

export interface DataSourceDef {
  /** Service name used with context.services.get(name). */
  name: string;
  type: string;
  config: Record<string, unknown>;
  /** data_sources/<dir>/config.json, relative to the app dir. */
  definedIn: string;
  /** Raw rules/schema files under the data source folder, keyed by "db/coll"; interpreted by data/rules. */
  collections: Record<string, { database: string; collection: string; rules?: unknown; schema?: unknown; rulesFile?: string; schemaFile?: string }>;
  defaultRule?: unknown;
}

export interface AuthProviderDef {
  name: string;
  type: string;
  disabled: boolean;
  config: Record<string, unknown>;
  secretConfig: Record<string, unknown>;
  metadataFields: unknown[];
}

export interface CustomUserDataDef {
  enabled: boolean;
  mongoServiceName: string;
  databaseName: string;
  collectionName: string;
  userIdField: string;
  onUserCreationFunctionName: string;
}

/** http(s)_endpoints/data_api_config.json (§3.3): the generated Data API's settings; here auth lives in the file itself. */
export interface DataApiConfigDef {
  disabled: boolean;
  /** Ascending, e.g. ["v1"]; may contain "beta". */
  versions: string[];
  returnType: ReturnType;
  createUserOnAuth: boolean;
  runAsSystem: boolean;
  runAsUserId: string;
  runAsUserIdScriptSource: string;
  canEvaluate: Record<string, unknown>;
  validationMethod: ValidationMethod;
  secretName?: string;
  fetchCustomUserData: boolean;
  logFunctionArguments: boolean;
  /** Relative to the app dir. */
  definedIn: string;
}

/** Which export generation the directory looks like (spec §2.1, real-world-usage §2). */
export type AppLayout = 'appservices-cli' | 'realm-cli-v2' | 'realm-cli-v1' | 'stitch' | 'bare';

export interface AppDefinition {
  /** Absolute path of the app directory. */
  dir: string;
  /** The client app id used in URLs (/app/<appId>/endpoint/...). */
  appId: string;
  name: string;
  /** Internal app id (ObjectId hex) when the export has one. */
  internalId: string;
  groupId: string;
  configVersion: number;
  deployment: { model: string; providerRegion: string; location: string };
  environment: { tag: string; values: Record<string, unknown> };
  /** values/<name>.json after resolving from_secret (a missing secret leaves the value undefined and a problem). */
  values: Record<string, unknown>;
  /** Secrets given to Atrium (name -> value). Never logged. */
  secrets: Record<string, string>;
  functions: Record<string, FunctionDef>;
  endpoints: EndpointDef[];
  dataSources: DataSourceDef[];
  authProviders: Record<string, AuthProviderDef>;
  customUserData: CustomUserDataDef | null;
  /** Absolute path of functions/package.json when the app declares npm dependencies. */
  packageJsonPath: string | null;
  allowedRequestOrigins: string[];
  problems: AppProblem[];
  /** The Data API settings when the export has data_api_config.json; null/absent when it has none. */
  dataApi?: DataApiConfigDef | null;
  /** Export generation detected from the marker files. */
  layout?: AppLayout;
}

export interface LoadOptions {
  /** Secrets by name (from --secrets and ATRIUM_SECRET_<NAME>). */
  secrets?: Record<string, string>;
  /** Environment tag to use instead of the root config's `environment` ("" = no-environment). */
  environment?: string;
}

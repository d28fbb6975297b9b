// Public face of app/: load an exported App Services app directory into plain data (DESIGN "Layout").
export { loadApp } from './load';
export { collectSecrets, normalizeSecretName, secretEnvVar, SECRET_ENV_PREFIX } from './secrets';
export { formatProblem } from './problems';
export type {
  AppDefinition,
  AppLayout,
  AppProblem,
  AuthProviderDef,
  CustomUserDataDef,
  DataApiConfigDef,
  DataSourceDef,
  EndpointDef,
  FunctionDef,
  HttpMethod,
  LoadOptions,
  ReturnType,
  ValidationMethod,
} from './types';

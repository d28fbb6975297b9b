// PLACEHOLDER (owned by the globals work): install functions/package.json dependencies into a per-app folder (§4.3).
import type { AppDefinition } from '../app/types';
/** Returns the directory holding node_modules for the app's dependencies, or null when the app declares none. */
export async function ensureDependencies(app: AppDefinition, dataDir: string, log: (line: string) => void): Promise<string | null> {
  void dataDir; void log;
  return app.packageJsonPath ? null : null;
}

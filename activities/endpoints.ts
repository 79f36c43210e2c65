/**
 * How a vendor's API module (activities/<vendor>/api.ts) names an endpoint: its method and its path
 * pattern, with `:name` segments. The activities fill the pattern to call the vendor; the sandbox
 * serves the same pattern as its route. Pure (no Node APIs): workflow code may import it.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Endpoint {
  readonly method: HttpMethod;
  /** Relative to the vendor's base URL, e.g. `/v1/verifications/:id/identity-data`. */
  readonly path: string;
}

/** The endpoint's path with each `:name` segment replaced by its URL-encoded value. */
export function fillPath(path: string, params: Record<string, string | number> = {}): string {
  return path.replace(/:([A-Za-z]\w*)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${path}: no value for :${name}`);
    return encodeURIComponent(String(value));
  });
}

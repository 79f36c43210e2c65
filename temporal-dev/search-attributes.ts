/**
 * The single list of this project's custom search attributes.
 *
 * Plain data only (no SDK imports) so it can be used by the dev-server launcher (`--search-attribute Name=Type`),
 * by the test harness (registering them on the time-skipping test server) and by tooling.
 *
 * Workflow code must NOT import this file (workflow bundles should stay free of tooling code); the typed
 * `defineSearchAttributeKey(...)` keys live in workflows/ and must use the same names.
 */

/** Search attribute value types as spelled by the Temporal CLI (`--search-attribute Name=Type`). */
export type SearchAttributeCliType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface SearchAttributeDefinition {
  readonly name: string;
  readonly type: SearchAttributeCliType;
}

export const SEARCH_ATTRIBUTES = [
  { name: 'VerificationProvider', type: 'Keyword' },
  { name: 'VerificationStatus', type: 'Keyword' },
  { name: 'VerificationOutcome', type: 'Keyword' },
  /** Set when a case needs a person to look at it (e.g. a result lost after the vendor spent the code). */
  { name: 'VerificationAttention', type: 'Keyword' },
  /** The vendor's own id for the case, when it is an opaque id (not a credential): how a Fourthline case webhook finds its case. */
  { name: 'VerificationProviderReference', type: 'Keyword' },
  /** The tenant of the API key that started the verification (client/app.ts, workflows/shared.ts tenantWorkflowId). */
  { name: 'VerificationTenant', type: 'Keyword' },
] as const satisfies readonly SearchAttributeDefinition[];

export type SearchAttributeName = (typeof SEARCH_ATTRIBUTES)[number]['name'];

/** `['--search-attribute', 'VerificationProvider=Keyword', ...]` for `temporal server start-dev`. */
export function cliSearchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', `${sa.name}=${sa.type}`]);
}

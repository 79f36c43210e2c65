/**
 * The evidence store's vocabulary, shared by activities (which store and read the bytes) and
 * workflows (which carry only references). Types only: workflow code may import it.
 */

/** A binary artifact kept in the evidence store; workflows carry only this reference. */
export interface EvidenceRef {
  kind: string;
  /** `sha256:<hex>`, the key in the content-addressed store. */
  ref: string;
  sha256: string;
  size: number;
  contentType: string;
}

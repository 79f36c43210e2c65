/**
 * Every patch id the workflow code passes to `patched()` or `deprecatePatch()`, in one list: what each
 * changes, since which release, and when it may go (modelled on the SDK's own compatibility flags,
 * @temporalio/workflow src/flags.ts). test/unit/patches.test.ts fails when a call in workflows/ names
 * an id that is not listed here, or when an id listed here is no longer called.
 *
 * Verification flows are PINNED to the build that started them (workers/index.ts): an ordinary change
 * ships as a new build and needs no patch. A patch is for a change that must reach runs already open:
 * the workflows that are AUTO_UPGRADE (workflows/webhook-endpoints.ts), a fix for open verifications,
 * or a worker running without versioning (development).
 *
 * To add one:
 * 1. List it here, keyed by its id (lowercase words and dashes):
 *
 *      'endpoint-registry-dedups-updates': {
 *        changes: 'the registry refuses an Update it has already applied (its id is carried across continue-as-new)',
 *        since: '1.1.0',
 *        until: 'deprecatePatch once no registry run started before 1.1.0 is open; delete once no run started before that deprecation is open',
 *      },
 *
 * 2. Call it with the id as a string literal, `if (patched('endpoint-registry-dedups-updates')) { new } else { old }`,
 *    so the test (and a reader's grep) finds every call.
 * 3. Move the histories recorded before the change into test/histories/<id>/ (they replay its old
 *    branch), re-record the corpus (`npm run record-histories`), and note the patch in CHANGELOG.md.
 * 4. Once no run started before it is open: `deprecatePatch('<id>')`, delete the old branch and
 *    test/histories/<id>/. Once no run started before that is open: delete the call and this entry,
 *    and say so in CHANGELOG.md.
 *
 * Empty at 1.0.0: the patches made before the first release were folded into the code (CHANGELOG.md).
 */

export interface PatchEntry {
  /** What the new branch does differently from the old one. */
  changes: string;
  /** The release whose workflow code first called it. */
  since: string;
  /** When `deprecatePatch` may replace it, and when it may be deleted. */
  until: string;
}

export const PATCHES = {} as const satisfies Record<string, PatchEntry>;

/** An id listed above. */
export type PatchId = keyof typeof PATCHES;

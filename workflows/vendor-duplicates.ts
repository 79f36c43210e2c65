/**
 * Untracked resources at a vendor: a create the vendor gives no key or look-up for can be
 * applied twice when its first answer is lost. The create activity tells how many earlier attempts went
 * out unanswered; a vendor callback can later name the orphan itself. Both are recorded on the
 * verification and flagged for a person (`VerificationAttention`); neither ever decides the outcome.
 */
import type { Verification } from './verification';

/** `n` earlier creates of `what` went out unanswered: the vendor may hold that many untracked ones. */
export function recordUnansweredCreates(v: Verification, what: string, n: number | undefined): void {
  if (!n || n <= 0) return;
  const before = Number(v.state.facts.vendorDuplicatesPossible ?? 0);
  v.setFacts({ vendorDuplicatesPossible: before + n });
  // A known orphan (`vendor-duplicate`) is the stronger flag: keep it.
  if (v.state.facts.attention === 'vendor-duplicate')
    v.note('needs attention', `${n} more ${what} create(s) went out unanswered`);
  else
    v.needsAttention(
      'vendor-duplicate-possible',
      `${n} earlier ${what} create(s) went out unanswered: the vendor may hold an untracked ${what}`,
    );
}

/**
 * A vendor reference that is not this verification's own, yet came back for it (a callback to its
 * own URL): an orphan of a lost create. Recorded once (ids only, no personal data), flagged. Answers
 * whether it was recorded (false: already known).
 */
export function recordVendorDuplicate(v: Verification, what: string, reference: string): boolean {
  const known = String(v.state.facts.vendorDuplicates ?? '')
    .split(',')
    .filter(Boolean);
  if (known.includes(reference)) return false;
  v.setFacts({ vendorDuplicates: [...known, reference].join(',') });
  v.needsAttention(
    'vendor-duplicate',
    `an untracked ${what} ${reference} at the vendor (a create whose answer was lost); it decides nothing`,
  );
  return true;
}

/**
 * The Web UI's "Current details" line of a verification (Verification.showOperators): from the
 * state and the vendor's label only, so no personal data and no URL.
 */
import type { VerificationState } from './shared';

/** e.g. "**<vendor label>** · awaiting user · waiting for the step `approve`: approve the signature · window closes 14:05 UTC (2026-11-30)". */
export function operatorDetails(s: VerificationState, label: string): string {
  const parts = [`**${label}**`, s.status.replace(/_/g, ' ') + (s.outcome ? `: ${s.outcome}` : '')];
  if (s.providerStatus) parts.push(`vendor status \`${s.providerStatus}\``);
  const a = s.nextAction;
  if (a.type === 'redirect') parts.push("waiting for the user at the vendor's pages");
  else if (a.type === 'action') {
    parts.push(`waiting for the step \`${a.action}\`: ${a.reason}`);
    if (a.deadline) parts.push(`window closes ${a.deadline.slice(11, 16)} UTC (${a.deadline.slice(0, 10)})`);
  } else if (a.type === 'wait') parts.push(a.reason);
  else if (s.reason) parts.push(s.reason);
  return parts.join(' · ');
}

/** The Web UI's "Current details" line (workflows/operator-details.ts): pure, from the state only. */
import { operatorDetails } from '../../workflows/operator-details';
import { FOURTHLINE_VENDOR } from '../../workflows/fourthline';
import { AUTHENTEQ_VENDOR } from '../../workflows/authenteq';
import type { VerificationState } from '../../workflows/shared';

const base: VerificationState = {
  id: 'fourthline:ref-1',
  provider: 'fourthline',
  reference: 'ref-1',
  status: 'awaiting_user',
  outcome: null,
  providerStatus: 'user_consent_required',
  providerReference: 'fl-123',
  reason: null,
  nextAction: {
    type: 'action',
    action: 'approve',
    reason: "approve the signature with the client's consent",
    deadline: '2026-11-30T14:05:00.000Z',
  },
  facts: {},
  evidence: [],
  timeline: [],
  createdAt: '2026-11-30T12:00:00.000Z',
  updatedAt: '2026-11-30T12:05:00.000Z',
};

test('a human step names the step and when its window closes', () => {
  expect(operatorDetails(base, FOURTHLINE_VENDOR.label)).toBe(
    "**Fourthline identity case and qualified signature** · awaiting user · vendor status `user_consent_required` · waiting for the step `approve`: approve the signature with the client's consent · window closes 14:05 UTC (2026-11-30)",
  );
});

test('a redirect never shows the vendor link (it can be a bearer credential); an ending shows its reason', () => {
  const redirect = operatorDetails(
    {
      ...base,
      provider: 'authenteq',
      providerStatus: null,
      nextAction: { type: 'redirect', url: 'https://vendor.example/verify?token=secret' },
    },
    AUTHENTEQ_VENDOR.label,
  );
  expect(redirect).toBe(
    "**Authenteq identity verification** · awaiting user · waiting for the user at the vendor's pages",
  );
  expect(redirect).not.toContain('secret');
  const ended = operatorDetails(
    {
      ...base,
      status: 'completed',
      outcome: 'approved',
      providerStatus: 'signed',
      reason: 'signed',
      nextAction: { type: 'none' },
    },
    FOURTHLINE_VENDOR.label,
  );
  expect(ended).toBe(
    '**Fourthline identity case and qualified signature** · completed: approved · vendor status `signed` · signed',
  );
});

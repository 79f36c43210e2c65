/** When the API answers an open verification from its memo alone (client/read-model.ts currentMemo). */
import { currentMemo } from '../../client/read-model';
import { STATE_MEMO_KEY, stateForMemo, type PublishedState, type VerificationState } from '../../workflows/shared';

const at = '2026-11-30T12:00:00.000Z';
const state: VerificationState = {
  id: 'finwave:r1',
  provider: 'finwave',
  reference: 'r1',
  status: 'awaiting_user',
  outcome: null,
  providerStatus: 'CREATED',
  providerReference: 'onb-1',
  reason: null,
  nextAction: { type: 'redirect', url: 'https://example.test/u' },
  facts: {},
  evidence: [],
  timeline: [{ at, event: 'created', status: 'created', providerStatus: null }],
  createdAt: at,
  updatedAt: at,
};

const described = (memo: PublishedState | undefined, pendingWorkflowTask?: object) =>
  ({ memo: memo ? { [STATE_MEMO_KEY]: memo } : {}, raw: { pendingWorkflowTask } }) as unknown as Parameters<
    typeof currentMemo
  >[0];

test('a current memo with no workflow task pending is the state (without the markers)', () => {
  expect(currentMemo(described({ ...stateForMemo(state), memoCurrent: true }))).toEqual(state);
});

test.each([
  ['a run that publishes on status changes only', { ...stateForMemo(state) }, undefined],
  [
    'a workflow task pending (something arrived it has not handled)',
    { ...stateForMemo(state), memoCurrent: true as const },
    { state: 1 },
  ],
  [
    'a timeline longer than the memo keeps',
    { ...stateForMemo(state), memoCurrent: true as const, memoTruncated: { timeline: 3, audit: 0 } },
    undefined,
  ],
  ['no memo', undefined, undefined],
])('not from the memo: %s', (_why, memo, pending) => {
  expect(currentMemo(described(memo, pending))).toBeNull();
});

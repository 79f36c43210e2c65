/**
 * Fourthline French solution: one identity verification case per verification, one child workflow
 * per signature attempt, on the same task queue. Read in this order:
 *
 * - fourthline-messages.ts   options, ids, views, signals / queries / Updates (shared with the API)
 * - fourthline-case.ts       the case workflow: create, identity, processing, continue-as-new
 * - fourthline-case-run.ts   the case's state and its reads of the case at Fourthline
 * - fourthline-attempts.ts   the signature phase: attempts raced against the case deadline
 * - fourthline-signature.ts  one signature attempt's workflow (child)
 * - fourthline-signature-attempt.ts / -steps.ts   its state and its human steps (Updates)
 * - fourthline-windows.ts    every window and deadline, in one place
 * - fourthline-vendor.ts     the activities as the workflows call them; vendor refusals
 *
 * Webhooks are nudges: the workflows always read the status with GET before acting. Personal data
 * (identity data, mobile number, selfie, passcode, documents) is only ever an EvidenceRef here.
 */
export * from './fourthline-messages';
export { fourthlineCase } from './fourthline-case';
export { fourthlineSignature } from './fourthline-signature';

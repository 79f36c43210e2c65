/**
 * Authenteq sandbox: the Web IDV API of ../shared/vendor-docs/authenteq-web-idv.txt, served under
 * `/authenteq` (so the base URL `<sandbox>/authenteq` stands for https://api.app.authenteq.com).
 *
 * The vendor API it serves (endpoints, headers, the result shape, error codes, the assumptions beyond
 * the doc) is described once, in activities/authenteq/api.ts, the module our activities call it with.
 * Here: ./model.ts (account, sessions, codes), ./routes.ts (the API and the control surface),
 * ./documents.ts (fake identities). Sandbox choices: a code expires `codeTtlMs` after it was issued
 * (10 minutes by default), only a successful exchange consumes it; a deactivated account (403) can no
 * longer open sessions, reading results still works.
 *
 * Playing the end user (the control surface, never part of Authenteq's API)
 * | GET  /verify?token=                                   | the user's page (the verificationUrl), a button per action |
 * | POST /_sandbox/sessions/:token/pass {nfcVerified?, addressProof?, documents?: 1-3, person?} | PASSED; answers `{ redirectTo }`, where the browser goes |
 * | POST /_sandbox/sessions/:token/fail                   | FAILED; answers `{ redirectTo }`                         |
 * | POST /_sandbox/sessions/:token/leave                  | the user leaves: `{ redirectTo }` without a code        |
 * | GET  /_sandbox/sessions/:token                        | the sandbox's view, with every exchange attempt of its code |
 * | GET|POST /_sandbox/account {redirectUrls?, deactivated?, clientSecret?} | the Customer Dashboard: registered URLs, deactivation, key rotation |
 * documents: how many documents the user scans in the multi-document flow (documentData2/3); 1 otherwise.
 */
export { AuthenteqSandbox, type AuthenteqExchange, type AuthenteqSandboxOptions } from './model';
export type { AuthenteqPassOptions } from './documents';
export { registerAuthenteqSandbox } from './routes';

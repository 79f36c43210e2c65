/**
 * Failures with their message and stack trace moved into an encoded payload, which the payload codec
 * then encrypts: a failure message can quote a vendor's words. The history then shows "Encoded
 * failure"; clients and the codec endpoint with the keys read the real message.
 *
 * Loaded by path (DataConverter.failureConverterPath) by clients and workers, and bundled into the
 * workflow code (workers/index.ts bundleWorkflows), so it must stay importable from workflow code.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

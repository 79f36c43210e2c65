/**
 * The data converter every client and worker of this service uses: encrypted payloads
 * (codec/payload-codec.ts) and encoded failure messages (codec/failure-converter.ts).
 *
 *   new Client({ connection, namespace, dataConverter: dataConverter(keyring) })
 *   Worker.create({ ..., dataConverter: dataConverter(keyring) })   // with a bundle from bundleWorkflows()
 */
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './payload-codec';
import type { PayloadKeyring } from './keys';

export {
  resolvePayloadKeyring,
  resolveAuditKeyring,
  DEV_AUDIT_KEY_FILE,
  developmentKeyring,
  describeKeyring,
  keyringOf,
  DEV_KEY_FILE,
  type PayloadKeyring,
  type ResolvedKeyring,
} from './keys';
export { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadKeyUnknownError } from './payload-codec';

export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export function dataConverter(keyring: PayloadKeyring): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(keyring)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

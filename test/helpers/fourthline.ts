/** Plays the integrator's backend and the end user through a Fourthline verification (tests). */
import crypto from 'node:crypto';
import type { Stack } from './stack';

// A tiny PDF and JPEG: enough for the sandbox, recognisable in history checks.
const PDF = Buffer.from(`%PDF-1.4\n% contract ${crypto.randomBytes(24).toString('hex')}\n%%EOF\n`);
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

export function fourthlineFlow(stack: Stack, defaults: Record<string, unknown> = {}) {
  const lastName = `Dupont${crypto.randomBytes(3).toString('hex')}`;
  const mobile = `+336${crypto.randomInt(10_000_000, 99_999_999)}`;
  const documentBase64 = PDF.toString('base64');
  let lastPasscode = '';
  const api = stack.api;
  const self = {
    personalData: [lastName, mobile] as string[],
    documentBase64,
    mobile,
    get lastPasscode() {
      return lastPasscode;
    },
    async create(reference: string, options: Record<string, unknown> = {}) {
      const res = await api('POST', '/v1/verifications', {
        provider: 'fourthline',
        reference,
        options: { ...defaults, ...options },
      });
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as {
        id: string;
        status: string;
        nextAction: Record<string, unknown>;
        providerReference: string | null;
      };
    },
    async identity(id: string, scenario = 'completed') {
      return api('POST', `/v1/verifications/${id}/actions/identity`, {
        person: { firstName: 'Marie', lastName, birthDate: '1990-04-01' },
        address: { street: '1 rue de la Paix', postalCode: '75002', city: 'Paris', countryCode: 'FRA' },
        emailAndPhone: { email: `marie+${scenario}@example.com`, phone: mobile },
        files: [
          { type: 'id_document_front', contentType: 'image/jpeg', contentBase64: JPEG.toString('base64') },
          { type: 'id_document_back', contentType: 'image/jpeg', contentBase64: JPEG.toString('base64') },
        ],
      });
    },
    action(id: string, action: string, body?: unknown) {
      return api('POST', `/v1/verifications/${id}/actions/${action}`, body);
    },
    async current(id: string) {
      return (await api('GET', `/v1/verifications/${id}/signature`)).body.current as {
        signatureId: string;
        workflowId: string;
        attempt: number;
        phase: string;
      };
    },
    /** Waits for the current attempt (optionally a given one) to reach `phase`. */
    async waitPhase(id: string, phase: string, attempt?: number, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < until) {
        const c = (await api('GET', `/v1/verifications/${id}/signature`)).body.current;
        last = c;
        if (c && c.phase === phase && (attempt === undefined || c.attempt === attempt)) return c;
        await new Promise((r) => setTimeout(r, 150));
      }
      // What the verification itself shows, so a failure in CI can be read without a rerun.
      const v = (await api('GET', `/v1/verifications/${id}`)).body ?? {};
      const tail = (v.timeline ?? []).slice(-6).map((t: { at: string; event: string }) => `${t.at} ${t.event}`);
      throw new Error(
        `timed out waiting for phase ${phase}; last: ${JSON.stringify(last)}; verification ${v.status}, timeline tail: ${JSON.stringify(tail)}`,
      );
    },
    /** Documents + mobile number, then waits for user_consent_required. */
    async signUpToApproval(id: string, phase = 'awaiting_approval') {
      await self.waitPhase(id, 'awaiting_documents');
      const docs = await self.action(id, 'documents', {
        documents: [{ name: 'contract.pdf', contentBase64: documentBase64 }],
      });
      if (docs.status !== 200) throw new Error(`documents answered ${docs.status}: ${JSON.stringify(docs.body)}`);
      const m = await self.action(id, 'mobile-number', { mobileNumber: mobile });
      if (m.status !== 200) throw new Error(`mobile-number answered ${m.status}: ${JSON.stringify(m.body)}`);
      return self.waitPhase(id, phase);
    },
    /** The client's phone: the passcode SMS of the current attempt. */
    async passcode(id: string) {
      const c = await self.current(id);
      const res = await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/signatures/${c.signatureId}/sms`);
      lastPasscode = ((await res.json()) as { passcode: string }).passcode;
      self.personalData.push(lastPasscode);
      return lastPasscode;
    },
    /** Details, approve, confirm with the SMS passcode. */
    async approveAndConfirm(id: string) {
      const d = await self.action(id, 'signature-details');
      if (d.status !== 200) throw new Error(`signature-details answered ${d.status}: ${JSON.stringify(d.body)}`);
      const a = await self.action(id, 'approve', {});
      if (a.status !== 200) throw new Error(`approve answered ${a.status}: ${JSON.stringify(a.body)}`);
      return self.action(id, 'confirm', { passcode: await self.passcode(id) });
    },
  };
  return self;
}

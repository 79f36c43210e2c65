/**
 * Who drove a step, for the audit trail (client/audit.ts): the caller's API key id, and the end user's IP
 * address and user agent as the caller passes them on in `X-End-User-IP` and `X-End-User-Agent`. The
 * routes that drive steps (client/verifications.ts, client/personal-data.ts) and the audit routes read it
 * from here.
 */
import net from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../workflows/shared';

export const END_USER_IP_HEADER = 'x-end-user-ip';
export const END_USER_AGENT_HEADER = 'x-end-user-agent';

export function actorOf(req: FastifyRequest): AuditActor {
  const ip = header(req, END_USER_IP_HEADER);
  const agent = header(req, END_USER_AGENT_HEADER);
  return {
    keyId: req.apiKeyId ?? 'unknown',
    endUserIp: ip && net.isIP(ip) ? ip : null,
    // Control characters are what this strips (a forged user agent must not break a log line or the audit
    // view); the rule flags any control character in a pattern.
    // eslint-disable-next-line no-control-regex
    endUserAgent: agent ? agent.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 512) : null,
  };
}

function header(req: FastifyRequest, name: string): string | null {
  const v = req.headers[name];
  const s = (Array.isArray(v) ? v[0] : v)?.trim();
  return s ? s : null;
}

/**
 * Server-side request forgery guard for the integrators' notification endpoints. Outside development
 * an endpoint must resolve only to public unicast addresses: never loopback, private, link-local,
 * unique-local, CGNAT, multicast or reserved space (which would let a tenant make our workers call
 * internal services). Checked when an endpoint is registered (the API) and again on each delivery,
 * at connect time (`safeLookup`), so a DNS answer changed since registration cannot slip through.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Only plain public unicast addresses are reachable (ipaddr.js names every special range). */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  return ipaddr.process(ip).range() === 'unicast';
}

export class UnsafeEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeEndpointError';
  }
}

/** Resolves the URL's host; throws UnsafeEndpointError when any address is not public. */
export async function assertPublicEndpoint(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(host)
    ? [host]
    : (await dns.promises.lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) throw new UnsafeEndpointError(`${host} does not resolve`);
  const bad = addresses.find((a) => !isPublicAddress(a));
  if (bad !== undefined)
    throw new UnsafeEndpointError(`${host} resolves to a non-public address (${ipaddr.process(bad).range()})`);
}

/** A `lookup` for http.request that refuses non-public answers (the connect-time check). */
export const safeLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses;
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || list.length === 0)
      return callback(new UnsafeEndpointError(`${hostname} resolves to a non-public address`), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    return callback(null, list[0]!.address, list[0]!.family);
  });
};

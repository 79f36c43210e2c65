/**
 * THE vendor registry: every list of vendors derives from it (the provider union, the create body's
 * discriminated union, the task queues and activity Workers, the routes, the config schema, the
 * sandboxes, the labels). Adding a vendor: its contract in config/vendors/<vendor>.ts and one line
 * here (docs/adding-a-vendor.md). The order is the order of the create body's union (its 400 lists the
 * providers in it), of the Workers, queues, routes and config notes; a new vendor goes last.
 *
 * Node only: workflow code imports from here with `import type` (the bundle never loads the registry).
 */
import type { VendorRegistry } from './contract';
import { fourthline } from './fourthline';
import { finwave } from './finwave';
import { authenteq } from './authenteq';
import { namirial } from './namirial';
import { id360 } from './id360';

export const vendors = { fourthline, finwave, authenteq, namirial, id360 } satisfies VendorRegistry;

export type Vendors = typeof vendors;
export type VendorName = keyof Vendors;
/** The vendors' names, in registry order. */
export const PROVIDERS = Object.keys(vendors) as VendorName[];

/** Each key is its contract's name: a key whose contract has another name does not compile. */
export type KeysThatAreNotNames<R> = { [K in keyof R]: R[K] extends { name: K } ? never : K }[keyof R];
const keysAreNames: [KeysThatAreNotNames<Vendors>] extends [never] ? true : false = true;
void keysAreNames;

/** `registry` plus `extra` (a test's toy vendor), checked like the real one. */
export function withVendors<R extends VendorRegistry, X extends VendorRegistry>(registry: R, extra: X): R & X {
  return { ...registry, ...extra };
}

export type * from './contract';
export type { FinwaveConfig } from './finwave-config';
export type { FourthlineConfig, FourthlineWebhookAuth } from './fourthline-config';
export type { FourthlineRouteOptions } from './fourthline';
export type { AuthenteqConfig } from './authenteq-config';
export type { NamirialConfig } from './namirial-config';
export type { Id360Config } from './id360-config';

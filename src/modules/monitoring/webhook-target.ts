// Which URLs a company may point a webhook at: https only, no credentials in the URL, and never an
// address inside the installation's own network (loopback, private, link-local, …), checked both when
// the channel is saved and at every connection (the name is resolved by our lookup, so a DNS answer
// that changes after the check cannot steer a delivery inside).
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";
import { AppError } from "../../errors/app-error.ts";

export type WebhookTargetPolicy = {
  /** Test-only: allow http://127.0.0.1 and loopback targets. Never set from configuration. */
  allowLoopback?: boolean;
};

export const maxWebhookUrlLength = 2048;

// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are checked by BlockList against the IPv4 rules.
const internalRanges = new BlockList();
for (const [address, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24],
  ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) internalRanges.addSubnet(address, prefix, "ipv4");
for (const [address, prefix] of [
  ["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["2001:db8::", 32],
] as const) internalRanges.addSubnet(address, prefix, "ipv6");

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

function plainAddress(address: string): string {
  const unbracketed = address.replace(/^\[|\]$/g, "");
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(unbracketed)?.[1] ?? unbracketed;
}

export function isInternalAddress(address: string, policy: WebhookTargetPolicy = {}): boolean {
  const candidate = plainAddress(address);
  const family = isIP(candidate);
  if (family === 0) return true;
  const type = family === 6 ? "ipv6" : "ipv4";
  if (policy.allowLoopback && loopback.check(candidate, type)) return false;
  return internalRanges.check(candidate, type);
}

// Parses and checks a company's webhook URL; throws validation_failed with the reason.
export function parseWebhookUrl(text: string, policy: WebhookTargetPolicy = {}): URL {
  const invalid = (reason: string) => new AppError("validation_failed", `the webhook URL ${reason}`);
  if (text.length > maxWebhookUrlLength) throw invalid(`is longer than ${maxWebhookUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid("is not a valid URL");
  }
  const host = plainAddress(url.hostname);
  const loopbackHttp = policy.allowLoopback === true && url.protocol === "http:" && (host === "127.0.0.1" || host === "::1");
  if (url.protocol !== "https:" && !loopbackHttp) throw invalid("must start with https://");
  if (url.username || url.password) throw invalid("must not carry a user name or password: receivers check the signature instead");
  if (url.hash) throw invalid("must not have a #fragment");
  if (/^localhost$|\.localhost$|\.local$|\.internal$/i.test(url.hostname)) throw invalid("points inside this installation's network");
  if (isIP(host) !== 0 && isInternalAddress(host, policy)) throw invalid("points inside this installation's network");
  return url;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

// A `lookup` for http(s).request that refuses names resolving to an internal address.
export function externalOnlyLookup(policy: WebhookTargetPolicy = {}) {
  return (hostname: string, options: { all?: boolean; family?: number | string } | undefined, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...(options ?? {}), all: true } as { all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const allowed = addresses.filter((entry) => !isInternalAddress(entry.address, policy));
      if (allowed.length === 0 || allowed.length !== addresses.length) {
        const refused = Object.assign(new Error("the webhook host resolves to an address inside this installation's network"), { code: "EADDRINTERNAL" });
        return callback(refused, []);
      }
      if (options?.all) return callback(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

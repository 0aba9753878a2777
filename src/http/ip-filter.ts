// Address filters for the operator API (and, later, tenants' allow-lists): a request is allowed only
// when its client address (as resolved through trusted proxies only) falls in one of the CIDRs.
import { BlockList, isIP } from "node:net";
import { AppError } from "../errors/app-error.ts";

export type AddressFilter = { allows(address: string): boolean };

export function createAddressFilter(cidrs: string[]): AddressFilter {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefixText] = cidr.split("/");
    const family = isIP(address ?? "");
    const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
    if (!address || family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new AppError("config_invalid", `"${cidr}" is not a valid address or CIDR`);
    }
    list.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
  }
  return {
    allows(address: string): boolean {
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
      const candidate = mapped ?? address;
      const family = isIP(candidate);
      if (family === 0) return false;
      return list.check(candidate, family === 6 ? "ipv6" : "ipv4");
    },
  };
}

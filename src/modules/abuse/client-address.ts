// The address a limit or a ban applies to. IPv4 addresses count one by one; IPv6 addresses count by
// their /64, because one subscriber usually holds a whole /64 and could otherwise step through it.
import { isIP } from "node:net";

/** The key for an address as request.ip gives it, or undefined when it is not an IP address. */
export function addressKeyOf(address: string): string | undefined {
  const withoutZone = address.split("%")[0] ?? "";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(withoutZone)?.[1];
  const candidate = mapped ?? withoutZone;
  const family = isIP(candidate);
  if (family === 4) return candidate;
  if (family !== 6) return undefined;
  const groups = expandIpv6(candidate.toLowerCase());
  if (!groups) return undefined;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** An operator's spelling of a banned address: an address, or an IPv6 /64 as listed. */
export function addressKeyFromInput(input: string): string | undefined {
  if (input.length > 64) return undefined;
  const bare = input.endsWith("/64") && input.includes(":") ? input.slice(0, -3) : input;
  return addressKeyOf(bare);
}

function expandIpv6(address: string): string[] | undefined {
  let text = address;
  // An embedded IPv4 tail (e.g. 64:ff9b::192.0.2.1) becomes two hex groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return undefined;
  return [...head, ...Array.from({ length: halves.length === 2 ? missing : 0 }, () => "0"), ...rest];
}

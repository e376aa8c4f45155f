// Host binding (AceData "bound domain"): a key may be restricted to one domain (`api.example.com`),
// a wildcard (`*.example.com`: any subdomain, not the apex), an IP address, or a CIDR range.
// Requests whose host does not match fail verification with FORBIDDEN_HOST.
import { BlockList, isIP } from 'node:net';

export const MAX_HOST_LENGTH = 253;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export type HostMatcher = (host: string) => boolean;

function isDomain(value: string): boolean {
  if (value.length > MAX_HOST_LENGTH) return false;
  const labels = value.split('.');
  // An all-numeric last label is no domain (it is a mistyped IP address like 256.1.1.1).
  return labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/** Lowercases, strips a trailing dot, a port, IPv6 brackets and the IPv4-mapped IPv6 prefix. */
export function normalizeRequestHost(raw: string): string {
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end === -1 ? host.slice(1) : host.slice(1, end);
  } else if (host.indexOf(':') !== -1 && host.indexOf(':') === host.lastIndexOf(':')) {
    host = host.slice(0, host.indexOf(':')); // host:port (an IPv6 address has several colons)
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.startsWith('::ffff:') && isIP(host.slice(7)) === 4) host = host.slice(7);
  return host;
}

/** Normalises a binding for storage, or returns null when it is not a domain, wildcard, IP or CIDR. */
export function normalizeHostBinding(raw: string): string | null {
  const value = raw.trim().toLowerCase().replace(/\.$/, '');
  if (value.length === 0 || value.length > MAX_HOST_LENGTH) return null;
  if (value.includes('/')) {
    const [address, bitsText, ...rest] = value.split('/');
    if (rest.length > 0 || address === undefined || bitsText === undefined || !/^\d{1,3}$/.test(bitsText)) return null;
    const family = isIP(address);
    const bits = Number(bitsText);
    if (family === 0 || bits > (family === 4 ? 32 : 128)) return null;
    return `${address}/${bits}`;
  }
  if (isIP(value) !== 0) return value;
  if (value.startsWith('*.')) return isDomain(value.slice(2)) ? value : null;
  return isDomain(value) ? value : null;
}

/** Builds the matcher for a normalised binding (see normalizeHostBinding). */
export function hostMatcher(binding: string): HostMatcher {
  if (binding.includes('/')) {
    const [address, bits] = binding.split('/') as [string, string];
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    const list = new BlockList();
    list.addSubnet(address, Number(bits), family);
    return (host) => {
      const hostFamily = isIP(host);
      return hostFamily !== 0 && list.check(host, hostFamily === 4 ? 'ipv4' : 'ipv6');
    };
  }
  const ipFamily = isIP(binding);
  if (ipFamily !== 0) {
    const list = new BlockList();
    list.addAddress(binding, ipFamily === 4 ? 'ipv4' : 'ipv6');
    return (host) => {
      const hostFamily = isIP(host);
      return hostFamily === ipFamily && list.check(host, hostFamily === 4 ? 'ipv4' : 'ipv6');
    };
  }
  if (binding.startsWith('*.')) {
    const suffix = binding.slice(1); // ".example.com"
    return (host) => host.length > suffix.length && host.endsWith(suffix);
  }
  return (host) => host === binding;
}

import { Address4, Address6 } from 'ip-address';

/**
 * Networks whose clients may submit without AUTH or TLS (an application on the same host or a
 * private network, as Postfix's mynetworks): their mail belongs to one configured user. Pure.
 */
export class RelayNetworks {
  private readonly v4: Address4[];
  private readonly v6: Address6[];

  constructor(cidrs: readonly string[]) {
    this.v4 = cidrs.filter((c) => Address4.isValid(c)).map((c) => new Address4(c));
    this.v6 = cidrs.filter((c) => !Address4.isValid(c) && Address6.isValid(c)).map((c) => new Address6(c));
  }

  get empty(): boolean {
    return this.v4.length === 0 && this.v6.length === 0;
  }

  /** Whether a client address (as the socket reports it, IPv4-mapped or not) is inside. */
  includes(address: string): boolean {
    if (Address4.isValid(address)) return this.in4(new Address4(address));
    if (!Address6.isValid(address)) return false;
    const a = new Address6(address);
    if (a.is4()) return this.in4(a.to4());
    return this.v6.some((n) => a.isInSubnet(n));
  }

  private in4(a: Address4): boolean {
    return this.v4.some((n) => a.isInSubnet(n));
  }
}

/** A CIDR (or a single address) that RelayNetworks takes; for config validation. */
export function isNetwork(cidr: string): boolean {
  return Address4.isValid(cidr) || Address6.isValid(cidr);
}

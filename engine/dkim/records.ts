import { isIP } from 'node:net';
import { createPrivateKey } from 'node:crypto';
import type { DkimAlgorithm } from './sign.js';
import { dkimDnsRecord } from './keys.js';

/** One DNS record a sender domain needs, with why. */
export interface DnsRecord {
  name: string;
  type: 'TXT' | 'MX';
  value: string;
  why: string;
}

export interface DomainSetup {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKeyPem: string;
  /** The VERP envelope domain; SPF is checked on it, and bounces go to its MX. */
  bounceDomain: string;
  /** The addresses mail leaves from ([[sources]]). */
  sources: readonly string[];
  /** The host that receives bounces (the MX target): this host's name. */
  mxHost: string;
}

/** SPF for the sources: ip4/ip6 mechanisms, hard fail for the rest. Pure. */
export function spfValue(sources: readonly string[]): string {
  const mechanisms = sources.map((a) => `${isIP(a) === 6 ? 'ip6' : 'ip4'}:${a}`);
  return ['v=spf1', ...mechanisms, '-all'].join(' ');
}

/**
 * The records to publish for a sender domain: DKIM key, SPF on the bounce domain (the envelope
 * sender that SPF checks) and on the From domain (mail sent without VERP), a DMARC policy to start
 * with (p=none and reports, tightened once the reports are clean), and the MX that brings bounces
 * back. Pure.
 */
export function domainRecords(d: DomainSetup): DnsRecord[] {
  const dkim = dkimDnsRecord(d.domain, d.selector, d.algorithm, createPrivateKey(d.privateKeyPem));
  const spf = spfValue(d.sources);
  const records: DnsRecord[] = [
    { name: dkim.name, type: 'TXT', value: dkim.value, why: 'DKIM public key: receivers verify the signature with it' },
    { name: d.bounceDomain, type: 'TXT', value: spf, why: 'SPF of the envelope sender (VERP on the bounce domain): the source addresses may send for it' },
  ];
  if (d.bounceDomain !== d.domain) records.push({ name: d.domain, type: 'TXT', value: spf, why: 'SPF of the From domain, for mail sent without VERP' });
  records.push(
    { name: `_dmarc.${d.domain}`, type: 'TXT', value: `v=DMARC1; p=none; rua=mailto:dmarc-reports@${d.domain}; adkim=r; aspf=r`, why: 'DMARC to start with: reports only; move to p=quarantine, then p=reject, once the reports show aligned DKIM' },
    { name: d.bounceDomain, type: 'MX', value: `10 ${d.mxHost}.`, why: 'bounces and feedback reports come back to the bounce listener on this host' },
  );
  return records;
}

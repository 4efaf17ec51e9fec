/**
 * The DKIM-Signature field as we write it. mailauth's formatter sorted, filtered, converted d= and
 * s= to A-labels and folded the field again for each message and key (7-8% of a render worker's
 * time in W2, twice a signature); here the layout is a few string joins. Folds go only where RFC
 * 6376 3.5 allows white space: between tags, after a colon of h=, and inside the b= value.
 */

/** Lines at most this long, as RFC 5322 2.1.1 recommends. */
const LINE = 78;
/** Base64 characters of b= on each line after the first. */
const B_CHUNK = 76;

export interface SignatureTags {
  algorithm: string;
  canonicalization: string;
  /** d= and s=, ASCII. */
  domain: string;
  selector: string;
  /** Seconds since the epoch. */
  time: number;
  /** The signed fields' names as written, bottom first. */
  names: readonly string[];
  bodyHash: string;
}

/** The field up to b=, folded; `${prefix} b=` is what the signature covers, `signedField` what is written. */
export function unsignedField(tags: SignatureTags): string {
  let out = 'DKIM-Signature:';
  let col = out.length;
  const put = (piece: string) => {
    if (col + 1 + piece.length > LINE) {
      out += `\r\n ${piece}`;
      col = 1 + piece.length;
    } else {
      out += ` ${piece}`;
      col += 1 + piece.length;
    }
  };
  for (const tag of ['v=1', `a=${tags.algorithm}`, `c=${tags.canonicalization}`, `d=${tags.domain}`, `s=${tags.selector}`, `t=${tags.time}`]) put(`${tag};`);
  tags.names.forEach((name, i) => put(`${i === 0 ? 'h=' : ''}${name}${i === tags.names.length - 1 ? ';' : ':'}`));
  put(`bh=${tags.bodyHash};`);
  return out;
}

/** The whole field (without its final CRLF): b= starts a line of its own, then lines of 76 characters. */
export function signedField(prefix: string, signature: string): string {
  const chunks = [`b=${signature.slice(0, B_CHUNK - 2)}`];
  for (let i = B_CHUNK - 2; i < signature.length; i += B_CHUNK) chunks.push(signature.slice(i, i + B_CHUNK));
  return `${prefix}\r\n ${chunks.join('\r\n ')}`;
}

import ms from 'ms';

/** Units accepted in the config. `ms` knows more spellings; a short fixed list keeps files uniform. */
const FORM = /^(-?)(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

const HINT = '(use e.g. "30s", "5m", "1h", "3d")';

/** A string that is not a usable length of time. */
export class DurationError extends Error {
  readonly code = 'DURATION_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

/**
 * "250ms", "30s", "5m", "1.5h", "3d" → whole milliseconds. A bare number is refused: "30" could mean
 * seconds or milliseconds, and guessing wrong is a 1000× mistake.
 */
export function parseDuration(value: string): number {
  const match = FORM.exec(value.trim());
  if (!match) throw new DurationError(`${JSON.stringify(value)} is not a duration ${HINT}`);
  const [, sign, amount, unit] = match;
  if (sign) throw new DurationError(`${JSON.stringify(value)} is negative; a duration is a length of time ${HINT}`);
  // Whitespace between number and unit is dropped here because `ms` only tolerates plain spaces.
  const millis = Math.round(ms(`${amount}${unit}` as ms.StringValue));
  if (!Number.isSafeInteger(millis)) throw new DurationError(`${JSON.stringify(value)} is too long to be a duration`);
  return millis;
}

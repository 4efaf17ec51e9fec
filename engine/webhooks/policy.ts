import { createHmac } from 'node:crypto';

/** After the n-th failure in a row: 10 s, 20 s, 40 s … doubling, at most an hour. Pure. */
export function webhookBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(10_000 * 2 ** (failures - 1), 3_600_000);
}

/**
 * The signature header value: HMAC-SHA256 over `<timestamp>.<body>` with the webhook's secret, so a
 * receiver can check both who sent it and that it is recent (replays carry an old timestamp).
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/**
 * GET /metrics in the Prometheus text format, from the registry it is given (see
 * admin/metrics/metrics.ts). Outside /api/v1 and without a key, like node_exporter: the admin
 * listener is on 127.0.0.1 by default; put it behind the proxy's auth when it is not.
 */
export async function metricsRoutes(app: FastifyInstance, o: { registry: Registry }): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const body = await o.registry.metrics();
    return reply.type(o.registry.contentType).send(body);
  });
}

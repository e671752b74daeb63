import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, boolean | string>;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** GET /healthz → 200 when healthy, 503 when not; GET /metrics → Prometheus text; `posts`: extra POST routes. */
export function opsRequestHandler(registry: Registry, health: () => HealthReport, posts: Record<string, RouteHandler> = {}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const post = posts[path];
    if (req.method === 'POST' && post) return post(req, res);
    if (req.method === 'GET' && path === '/healthz') {
      const report = health();
      res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(report));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  };
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** The worker's (and the Socket Mode bot's) small observability server. */
export async function startOpsServer(options: { host: string; port: number; registry: Registry; health: () => HealthReport; posts?: Record<string, RouteHandler> }): Promise<OpsServer> {
  const server = createServer(opsRequestHandler(options.registry, options.health, options.posts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

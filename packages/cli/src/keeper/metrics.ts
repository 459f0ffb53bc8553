/**
 * The keeper's Prometheus metrics (prom-client), served on 127.0.0.1 only: the figures say which
 * positions the operator watches and how fast it acts, which is nobody else's business.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { SetupError } from "@zk-solvency/sdk/core";

export class KeeperMetrics {
  readonly registry = new Registry();
  readonly positionsTracked = new Gauge({ name: "positions_tracked", help: "Positions the keeper follows (one per registered account)", registers: [this.registry] });
  readonly positionsEvaluated = new Counter({ name: "positions_evaluated_total", help: "Position evaluations with the risk model", registers: [this.registry] });
  readonly proofs = new Counter({ name: "proofs_total", help: "Liquidation-mode proofs made", labelNames: ["kind"] as const, registers: [this.registry] });
  readonly proofSeconds = new Histogram({
    name: "proof_seconds",
    help: "Time to make one proof (witness and Groth16), seconds",
    buckets: [0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60],
    registers: [this.registry],
  });
  readonly submissions = new Counter({
    name: "submissions_total",
    help: "Transactions by kind and result (sent, mined, reverted, refused, rebroadcast)",
    labelNames: ["kind", "result"] as const,
    registers: [this.registry],
  });
  readonly rpcErrors = new Counter({ name: "rpc_errors_total", help: "Failed JSON-RPC calls (each attempt)", registers: [this.registry] });
  readonly decryptFailures = new Counter({ name: "decrypt_failures_total", help: "Published openings no configured keeper key decrypts", registers: [this.registry] });
  readonly lastBlock = new Gauge({ name: "last_block", help: "The last block whose logs the keeper processed", registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Every kind present from the start, at 0: a dashboard's rate() needs the series to exist.
    for (const kind of ["flag", "liquidate"]) this.proofs.inc({ kind }, 0);
  }

  /** Serves GET /metrics on 127.0.0.1:port (0: a free port); resolves with the port. */
  async serve(port: number): Promise<{ port: number; close(): Promise<void> }> {
    const server: Server = createServer((request, response) => {
      if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
        response.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => response.writeHead(200, { "content-type": this.registry.contentType }).end(body),
        () => response.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => reject(new SetupError(`metrics: cannot listen on 127.0.0.1:${port} (${error.code ?? error.message})`)));
      server.listen(port, "127.0.0.1", () => resolve());
    });
    return {
      port: (server.address() as AddressInfo).port,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Scrapers keep connections alive; shutting down must not wait for them.
          server.closeAllConnections();
        }),
    };
  }
}

/**
 * The keeper's parts without a chain (test/keeper-node.e2e.test.ts runs the service against a real
 * hardhat node): its configuration file and the CLI's answers to bad input, the SQLite store's
 * crash-safe state machine, RPC retries with capped back-off, the metrics endpoint, the market
 * feed that only serves the oracle's published root, and `zks keeper keygen` / `status`.
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/keeper.test.ts
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import { parseKeeperKeyFile, parseKeeperPublicKeyFile } from "../packages/sdk/src/encryption/keeper-key.ts";
import { loadKeeperConfig } from "../packages/cli/src/keeper/config.ts";
import { MarketSource } from "../packages/cli/src/keeper/markets.ts";
import { KeeperMetrics } from "../packages/cli/src/keeper/metrics.ts";
import { backoffDelay, isTransportError, RpcUnavailableError, withRetry } from "../packages/cli/src/keeper/retry.ts";
import { KeeperStore, loadSqlite } from "../packages/cli/src/keeper/store.ts";
import { assertOneLineError, zksAsync } from "./helpers/cli.ts";
import { example, loadMarket } from "./helpers/examples.ts";
import { writeKeeperConfig, writeKeeperKey } from "./helpers/keeper-fixtures.ts";

const GATE = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const ORACLE = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 };

describe("zks keeper: configuration, store, retries, metrics, markets (no chain)", function () {
  let dir: string;
  let key: ReturnType<typeof writeKeeperKey>;
  const base = () => ({
    rpcUrl: "http://127.0.0.1:1",
    gate: GATE,
    oracle: ORACLE,
    keeperKeyFile: "keeper.json",
    signerKeyEnv: "ZKS_KEEPER_TEST_SIGNER",
    market: example("market-grid.json"),
    policy: example("policy.json"),
    database: "keeper.sqlite",
  });

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "zks-keeper-"));
    key = writeKeeperKey(dir, "keeper");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("configuration", () => {
    it("reads a configuration: defaults filled in, paths relative to the file", () => {
      const file = writeKeeperConfig(dir, base());
      const config = loadKeeperConfig(file);
      assert.equal(config.gate, GATE);
      assert.equal(config.oracle, ORACLE);
      assert.equal(config.keeperKeyFile, path.join(dir, "keeper.json"));
      assert.equal(config.database, path.join(dir, "keeper.sqlite"));
      assert.deepEqual(config.retiredKeyFiles, []);
      assert.deepEqual(
        {
          metricsPort: config.metricsPort,
          pollIntervalMs: config.pollIntervalMs,
          jitterMs: config.jitterMs,
          maxRetries: config.maxRetries,
          provers: config.provers,
          confirmations: config.confirmations,
          fromBlock: config.fromBlock,
        },
        { metricsPort: 9464, pollIntervalMs: 4000, jitterMs: 2000, maxRetries: 5, provers: 1, confirmations: 0, fromBlock: 0 },
      );
      assert.equal(config.privateRpcUrl, undefined);
    });

    it("takes the gate, oracle, chain and first block from a deployments file", () => {
      const deployment = path.join(dir, "deployment.json");
      writeFileSync(deployment, JSON.stringify({ network: "json-rpc", chainId: "31337", blockNumber: 17, contracts: { RebalanceGate: GATE.toLowerCase(), MarketOracle: ORACLE } }));
      const { gate: _g, oracle: _o, ...rest } = base();
      const config = loadKeeperConfig(writeKeeperConfig(dir, { ...rest, deployment: "deployment.json" }));
      assert.deepEqual([config.gate, config.oracle, config.chainId, config.fromBlock], [GATE, ORACLE, 31337n, 17]);
    });

    const refused: [string, (c: Record<string, unknown>) => void, RegExp][] = [
      ["a missing field", (c) => delete c.rpcUrl, /: rpcUrl: required field is missing$/],
      ["an unknown field (a typo)", (c) => (c.pollIntervallMs = 10), /: unknown field\(s\) "pollIntervallMs"/],
      ["a malformed address", (c) => (c.gate = "0x1234"), /: gate: not a non-zero address: string "0x1234"/],
      ["the zero address", (c) => (c.oracle = "0x0000000000000000000000000000000000000000"), /: oracle: not a non-zero address/],
      ["a URL that is not http(s)", (c) => (c.privateRpcUrl = "ws://127.0.0.1:8546"), /: privateRpcUrl: expected an http\(s\):\/\/ JSON-RPC URL/],
      [
        "a private key where the variable's name belongs",
        (c) => (c.signerKeyEnv = `0x${"ab".repeat(32)}`),
        /: signerKeyEnv: expected the NAME of an environment variable holding the key, not the key/,
      ],
      ["a metrics port out of range", (c) => (c.metricsPort = 70000), /: metricsPort: must be <= 65535, got number 70000/],
      ["a fractional retry count", (c) => (c.maxRetries = 1.5), /: maxRetries: expected an integer, got number 1.5/],
      ["no gate and no deployment", (c) => delete c.gate, /: gate: required field is missing \(or give deployment/],
      ["both a deployment and a gate", (c) => (c.deployment = "deployment.json"), /: gate: give either deployment or gate and oracle, not both/],
    ];
    for (const [what, change, message] of refused) {
      it(`refuses ${what}, naming the file and field (exit 2)`, async () => {
        const fields: Record<string, unknown> = base();
        change(fields);
        const file = writeKeeperConfig(dir, fields, "bad.config.json");
        assert.throws(
          () => loadKeeperConfig(file),
          (error: unknown) => error instanceof InputError && message.test(error.message) && error.message.startsWith(file),
        );
      });
    }

    it("the CLI: a malformed configuration, a missing one and a key file that does not parse are one line each, exit 2", async () => {
      writeFileSync(path.join(dir, "broken.json"), "{ not json");
      const malformed = await zksAsync(["keeper", "run", "--config", path.join(dir, "broken.json")]);
      assert.equal(malformed.code, 2);
      assertOneLineError(malformed, /^zks: .*broken\.json: malformed JSON/);

      const missing = await zksAsync(["keeper", "run", "--config", path.join(dir, "nope.json")]);
      assert.equal(missing.code, 2);
      assertOneLineError(missing, /^zks: .*nope\.json: file not found$/);

      const typo = await zksAsync(["keeper", "status", "--config", writeKeeperConfig(dir, { ...base(), jitter: 5 }, "typo.json")]);
      assert.equal(typo.code, 2);
      assertOneLineError(typo, /^zks: .*typo\.json: unknown field\(s\) "jitter"/);

      // A key file whose public key is not its secret's: corrupt or two keys mixed.
      const pair = JSON.parse(readFileSync(key.file, "utf8"));
      const other = writeKeeperKey(dir, "other");
      writeFileSync(path.join(dir, "mixed.json"), JSON.stringify({ ...pair, publicKey: JSON.parse(readFileSync(other.file, "utf8")).publicKey }));
      const mixed = await zksAsync(["keeper", "run", "--config", writeKeeperConfig(dir, { ...base(), keeperKeyFile: "mixed.json" }, "mixed.config.json")], {
        ZKS_KEEPER_TEST_SIGNER: `0x${"11".repeat(32)}`,
      });
      assert.equal(mixed.code, 2);
      assertOneLineError(mixed, /^zks: .*mixed\.json: publicKey: does not match the secret/);

      const retired = await zksAsync(["keeper", "run", "--config", writeKeeperConfig(dir, { ...base(), retiredKeyFiles: ["missing-retired.json"] }, "retired.config.json")]);
      assert.equal(retired.code, 2);
      assertOneLineError(retired, /^zks: .*missing-retired\.json: file not found$/);
    });

    it("the CLI: a signer variable not set, or an endpoint that does not answer, is a setup problem (exit 3)", async () => {
      const file = writeKeeperConfig(dir, base(), "unreachable.json");
      const unset = await zksAsync(["keeper", "run", "--config", file], { ZKS_KEEPER_TEST_SIGNER: "" });
      assert.equal(unset.code, 3);
      assertOneLineError(unset, /^zks: .*unreachable\.json: signerKeyEnv: the environment variable ZKS_KEEPER_TEST_SIGNER is not set/);
      const down = await zksAsync(["keeper", "run", "--config", file], { ZKS_KEEPER_TEST_SIGNER: `0x${"11".repeat(32)}` });
      assert.equal(down.code, 3);
      assertOneLineError(down, /^zks: cannot reach the JSON-RPC endpoint http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)$/);
    });
  });

  describe("keygen", () => {
    it("writes the secret with mode 0600 and its public half, prints the public key, and never overwrites", async () => {
      const out = path.join(dir, "fresh-keeper.json");
      const made = await zksAsync(["keeper", "keygen", "--out", out, "--json"]);
      assert.equal(made.code, 0, made.stderr);
      const printed = JSON.parse(made.stdout);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const pair = parseKeeperKeyFile(readFileSync(out, "utf8"), out);
      const pub = parseKeeperPublicKeyFile(readFileSync(path.join(dir, "fresh-keeper.pub.json"), "utf8"), "pub");
      assert.deepEqual(pub, pair.publicKey);
      assert.deepEqual(printed.publicKey, pair.publicKey.map(String));
      const before = readFileSync(out, "utf8");
      const again = await zksAsync(["keeper", "keygen", "--out", out]);
      assert.equal(again.code, 2);
      assertOneLineError(again, /fresh-keeper\.json: already exists; a keeper key is never overwritten/);
      assert.equal(readFileSync(out, "utf8"), before, "the key file is untouched");
    });
  });

  describe("store", () => {
    let file: string;
    const pin = { chainId: 31337n, gate: GATE };
    beforeEach(() => {
      file = path.join(dir, `store-${Math.random().toString(36).slice(2)}.sqlite`);
    });

    it("one action per (account, commitment, kind), whoever asks and however often; the constraint is the database's own", () => {
      const store = KeeperStore.open(file, pin);
      const a = store.claimAction(GATE, 5n, "liquidate", 42n);
      const b = store.claimAction(GATE.toLowerCase(), 5n, "liquidate", 43n);
      assert.equal(a.id, b.id);
      assert.equal(b.state, "planned");
      assert.notEqual(store.claimAction(GATE, 5n, "flag", 42n).id, a.id, "a flag is another action");
      assert.notEqual(store.claimAction(GATE, 6n, "liquidate", 42n).id, a.id, "a new commitment is another action");
      // Even a buggy caller cannot insert a duplicate: SQLite refuses it.
      const { DatabaseSync } = loadSqlite();
      store.close();
      const raw = new DatabaseSync(file);
      assert.throws(
        () =>
          raw
            .prepare("INSERT INTO actions (account, commitment, kind, state, updated_at) VALUES (?, ?, 'liquidate', 'planned', 0)")
            .run(GATE.toLowerCase(), `0x${5n.toString(16).padStart(64, "0")}`),
        /UNIQUE constraint failed/,
      );
      // ... and a `submitted` row without its transaction (hash, nonce, bytes).
      assert.throws(() => raw.prepare("UPDATE actions SET state = 'submitted' WHERE id = ?").run(a.id), /CHECK constraint failed/);
      raw.close();
    });

    it("the state machine: a submission is recorded only while proving, with hash, nonce and bytes together; checkpoint and retry", () => {
      const store = KeeperStore.open(file, pin);
      const action = store.claimAction(GATE, 7n, "flag", 42n);
      assert.throws(() => store.recordSubmission(action.id, "0xaa", 0, "0x01"), /not being proven/);
      assert.equal(store.startProving(action.id, 42n), true);
      store.checkpoint(action.id); // shutting down mid-proof
      assert.equal(store.actionById(action.id).state, "planned");
      assert.equal(store.startProving(action.id, 43n), true);
      store.recordSubmission(action.id, "0xaa", 3, "0x01");
      const submitted = store.actionById(action.id);
      assert.deepEqual([submitted.state, submitted.txHash, submitted.nonce, submitted.rawTx, submitted.attempts, submitted.epoch], ["submitted", "0xaa", 3, "0x01", 2, 43n]);
      assert.equal(store.startProving(action.id, 43n), false, "a submitted action is never proven again");
      assert.equal(store.highestPendingNonce(), 3);
      store.markMined(action.id);
      assert.equal(store.highestPendingNonce(), null);
      store.close();
      // Reopened (a restart): everything is there, and the database is sound.
      const again = KeeperStore.open(file, pin);
      assert.equal(again.actionById(action.id).state, "mined");
      assert.equal(again.integrityCheck(), "ok");
      again.close();
    });

    it("positions: a new commitment replaces the opening and clears the flag; an older log never overwrites a newer one; the cursor", () => {
      const store = KeeperStore.open(file, pin);
      store.transaction(() => {
        store.putPublished(GATE, 1n, 10n, 1n, "{}", 100);
        store.setOpening(GATE, 10n, '{"secret":1}');
        store.setFlag(GATE, 10n, 1_700_000_000n);
        store.setFlag(GATE, 9n, 1n); // a flag of another commitment is void
        store.setCursor("logs", 100);
      });
      let row = store.position(GATE)!;
      assert.deepEqual([row.commitment, row.openingJson, row.flagSince], [10n, '{"secret":1}', 1_700_000_000n]);
      store.putPublished(GATE, 2n, 11n, 2n, '{"c":1}', 105);
      row = store.position(GATE)!;
      assert.deepEqual([row.nonce, row.commitment, row.keyGeneration, row.openingJson, row.publishedJson, row.flagSince], [2n, 11n, 2n, null, '{"c":1}', null]);
      store.putPublished(GATE, 1n, 10n, 1n, "{}", 100);
      assert.equal(store.position(GATE)!.commitment, 11n, "a replayed older log is ignored");
      assert.equal(store.cursor("logs"), 100);
      // A failed transaction leaves nothing behind.
      assert.throws(() =>
        store.transaction(() => {
          store.setCursor("logs", 200);
          throw new Error("boom");
        }),
      );
      assert.equal(store.cursor("logs"), 100);
      store.close();
    });

    it("a database made for another gate or chain is refused (exit 2)", () => {
      KeeperStore.open(file, pin).close();
      assert.throws(
        () => KeeperStore.open(file, { chainId: 1n, gate: GATE }),
        (error: unknown) =>
          error instanceof InputError &&
          error.exitCode === 2 &&
          /follows gate 0x5fbdb2315678afecb367f032d93f642f64180aa3 on chain 31337, not gate .* on chain 1/.test(error.message),
      );
      writeFileSync(path.join(dir, "not-a-db.sqlite"), "hello, this is not SQLite, but long enough to look like a header.............");
      assert.throws(
        () => KeeperStore.open(path.join(dir, "not-a-db.sqlite"), pin),
        (error: unknown) => error instanceof InputError && /not a usable keeper database/.test(error.message),
      );
    });

    it("zks keeper status prints the database's view (text and JSON), without balances", async () => {
      const config = writeKeeperConfig(dir, { ...base(), database: path.basename(file) }, "status.config.json");
      const empty = await zksAsync(["keeper", "status", "--config", config]);
      assert.equal(empty.code, 2);
      assertOneLineError(empty, /database: .* does not exist yet \(the keeper has not run\)/);
      const store = KeeperStore.open(file, pin);
      store.putPublished(GATE, 1n, 10n, 1n, "{}", 100);
      store.setOpening(GATE, 10n, '{"collateral":["123456789"]}');
      store.setCursor("logs", 100);
      const action = store.claimAction(GATE, 10n, "liquidate", 42n);
      store.startProving(action.id, 42n);
      store.recordSubmission(action.id, `0x${"ab".repeat(32)}`, 0, "0x02");
      store.close();
      const text = await zksAsync(["keeper", "status", "--config", config]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /logs processed to block 100/);
      assert.match(text.stdout, /1 positions followed: 1 decrypted, 0 no configured key decrypts/);
      assert.match(text.stdout, /actions: 0 planned, 0 proving, 1 submitted, 0 mined, 0 failed/);
      assert.match(text.stdout, /#1 liquidate 0x5fbdb2315678afecb367f032d93f642f64180aa3 .*: submitted tx 0xabab/);
      assert.doesNotMatch(text.stdout, /123456789/, "no balance is printed");
      const json = JSON.parse((await zksAsync(["keeper", "status", "--config", config, "--json"])).stdout);
      assert.equal(json.lastBlock, 100);
      assert.equal(json.actions[0].state, "submitted");
      assert.equal(json.positions[0].decrypted, true);
      assert.doesNotMatch(JSON.stringify(json), /123456789/);
      // Another deployment's configuration pointed at this database: refused, not misreported.
      const other = writeKeeperConfig(dir, { ...base(), gate: ORACLE, database: path.basename(file) }, "status-other.config.json");
      const refused = await zksAsync(["keeper", "status", "--config", other]);
      assert.equal(refused.code, 2);
      assertOneLineError(
        refused,
        /this database follows gate 0x5fbdb2315678afecb367f032d93f642f64180aa3 on chain 31337, not .*status-other\.config\.json's gate 0xe7f1725e7734ce288f8367e1bb143e90bb3f0512$/,
      );
    });
  });

  describe("retries", () => {
    const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });

    it("back-off doubles from the base and stops at the cap", () => {
      assert.deepEqual(
        [1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(n, 250, 3_000)),
        [250, 500, 1_000, 2_000, 3_000, 3_000, 3_000],
      );
    });

    it("retries transport failures, reporting each, then succeeds", async () => {
      let calls = 0;
      const seen: (number | null)[] = [];
      const value = await withRetry(
        "eth_blockNumber",
        async () => {
          if (++calls < 3) throw refused();
          return 7;
        },
        { retries: 5, baseMs: 1, capMs: 4, onError: (_e, _attempt, delay) => seen.push(delay) },
      );
      assert.equal(value, 7);
      assert.deepEqual(seen, [1, 2]);
    });

    it("gives up after the retries with RpcUnavailableError (exit 3), and never retries an answer (a revert)", async () => {
      let calls = 0;
      await assert.rejects(
        withRetry(
          "eth_call",
          async () => {
            calls++;
            throw refused();
          },
          { retries: 2, baseMs: 1, capMs: 1 },
        ),
        (error: unknown) => error instanceof RpcUnavailableError && error.exitCode === 3 && /eth_call: connect ECONNREFUSED/.test(error.message),
      );
      assert.equal(calls, 3);
      calls = 0;
      const revert = Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" });
      await assert.rejects(
        withRetry(
          "eth_call",
          async () => {
            calls++;
            throw revert;
          },
          { retries: 5, baseMs: 1, capMs: 1 },
        ),
        revert,
      );
      assert.equal(calls, 1);
      assert.equal(isTransportError({ code: "SERVER_ERROR" }), true);
      assert.equal(isTransportError({ error: { cause: { code: "ECONNRESET" } } }), true);
      assert.equal(isTransportError({ code: "INSUFFICIENT_FUNDS" }), false);
    });
  });

  describe("metrics", () => {
    it("serves every metric on 127.0.0.1 only, /metrics and nothing else", async () => {
      const metrics = new KeeperMetrics();
      metrics.submissions.inc({ kind: "liquidate", result: "mined" });
      metrics.proofSeconds.observe(3.2);
      const server = await metrics.serve(0);
      try {
        const body = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
        for (const name of [
          "positions_tracked",
          "positions_evaluated_total",
          "proofs_total",
          "proof_seconds_bucket",
          "submissions_total",
          "rpc_errors_total",
          "last_block",
          "decrypt_failures_total",
          "process_resident_memory_bytes",
        ]) {
          assert.match(body, new RegExp(`^${name}`, "m"), name);
        }
        assert.match(body, /submissions_total\{kind="liquidate",result="mined"\} 1/);
        assert.equal((await fetch(`http://127.0.0.1:${server.port}/`)).status, 404);
        // Bound to the loopback interface only: the machine's other addresses refuse the connection.
        const { createConnection } = await import("node:net");
        const { networkInterfaces } = await import("node:os");
        const outside = Object.values(networkInterfaces())
          .flat()
          .find((i) => i && i.family === "IPv4" && !i.internal);
        if (outside) {
          const socket = createConnection({ host: outside.address, port: server.port });
          await assert.rejects(new Promise((resolve, reject) => socket.on("connect", resolve).on("error", reject)), /ECONNREFUSED/);
          socket.destroy();
        }
      } finally {
        await server.close();
      }
      const busy = await metrics.serve(0);
      await assert.rejects(new KeeperMetrics().serve(busy.port), /metrics: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/);
      await busy.close();
    });
  });

  describe("market feed", () => {
    it("serves an epoch's market only when its root is the oracle's; another epoch, a tampered file or none is skipped with the reason", () => {
      const market = loadMarket();
      const root = marketRoot(market, LAYOUT);
      const feed = path.join(dir, "feed");
      mkdirSync(feed);
      copyFileSync(example("market-grid.json"), path.join(feed, "epoch-42.json"));
      const tampered = JSON.parse(readFileSync(example("market-grid.json"), "utf8"));
      tampered.epoch = 43;
      tampered.assets[0].price = "1.00";
      writeFileSync(path.join(feed, "epoch-43.json"), JSON.stringify(tampered));
      writeFileSync(path.join(feed, "notes.json"), "{}");
      const source = new MarketSource(feed, LAYOUT);
      const found = source.lookup(42n, root);
      assert.equal(found.market?.epoch, 42);
      const wrong = source.lookup(43n, root);
      assert.equal(wrong.market, null);
      assert.match(wrong.market === null ? wrong.problem : "", /epoch-43\.json: epoch 43's marketRoot is \d+, but the oracle published \d+: not the published market/);
      const none = source.lookup(44n, root);
      assert.match(none.market === null ? none.problem : "", /notes\.json: version: /);
      const single = new MarketSource(example("market-grid.json"), LAYOUT);
      assert.equal(single.lookup(42n, root).market?.epoch, 42);
      assert.match((single.lookup(42n, root + 1n) as { problem: string }).problem, /not the published market/);
      assert.match((new MarketSource(path.join(dir, "absent"), LAYOUT).lookup(42n, root) as { problem: string }).problem, /no market file at/);
      assert.equal(existsSync(feed), true);
    });
  });
});

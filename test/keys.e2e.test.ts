/**
 * Key releases (docs/keys.md): `zks keys publish` from the build directory, `zks keys fetch`
 * (over HTTP from a real server on 127.0.0.1, and from a folder) into an empty ZKS_BUILD_DIR, then
 * `zks prove` and `zks verify` with the fetched keys; the SDK's fetchCircuitArtifacts in Node and
 * in Chromium. Every attack on a release is refused with its named error, and nothing is
 * installed: tampered wasm, zkey, vkey or verifier.json; another instance's entry; a zkey that is
 * not the vkey's; truncated downloads; a wrong pin; `../` paths; a redirect to another origin; an
 * old release's index under a new version; an unpinned ceremony label.
 *
 * Needs the test-tier keys of solvency-3x3x16 and rebalance-3x3x16 (`zks setup --tier test`).
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/keys.e2e.test.ts
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import * as esbuild from "esbuild";
import type { Browser } from "playwright-core";
import { nodeLeaks } from "../scripts/build-browser.ts";
import { proveSolvency, verifySolvency } from "../packages/sdk/src/api/solvency.ts";
import { ArtifactFetchError, ArtifactIntegrityError } from "../packages/sdk/src/artifacts/errors.ts";
import { fetchCircuitArtifacts } from "../packages/sdk/src/artifacts/fetch-artifacts.ts";
import type { KeyIndex } from "../packages/sdk/src/artifacts/key-index.ts";
import { InputError, ZksError } from "../packages/sdk/src/core/errors.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import { parsePolicy } from "../packages/sdk/src/inputs/parse-policy.ts";
import { parsePosition } from "../packages/sdk/src/inputs/parse-position.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { loadCircuitArtifacts } from "../packages/node/src/artifacts.ts";
import { fetchKeys } from "../packages/node/src/keys/fetch.ts";
import { publishKeys } from "../packages/node/src/keys/publish.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { chromiumAvailable, launchChromium } from "./helpers/browser.ts";
import { zksAsync } from "./helpers/cli.ts";
import { example } from "./helpers/examples.ts";

const SOLVENCY = "solvency-3x3x16";
const REBALANCE = "rebalance-3x3x16";
const VERSION = "9.9.9-test";
const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** One clear line on stderr naming what failed, no stack, and the documented exit code. */
function assertRefused(result: { code: number | null; stdout: string; stderr: string }, code: number, fragment: RegExp): void {
  assert.equal(result.code, code, `exit ${result.code}, expected ${code}:\n${result.stderr}${result.stdout}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, fragment);
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/);
}

/** Nothing of any instance in the build directory: no instance folder, no staging folder left over. */
function assertNothingInstalled(buildDir: string): void {
  const circuits = path.join(buildDir, "circuits");
  assert.deepEqual(existsSync(circuits) ? readdirSync(circuits) : [], []);
}

async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => ZksError, exitCode: number, fragment: RegExp): Promise<ZksError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
    assert.equal(error.exitCode, exitCode);
    assert.match(error.message, fragment);
    assert.ok(!error.message.includes("\n"), "one line");
    return error;
  }
  assert.fail(`expected ${type.name}`);
}

describe("key releases: zks keys publish / fetch, fetchCircuitArtifacts", function () {
  let root: string;
  /** What the servers serve: releases under `<site>/<version>/`. */
  let site: string;
  let server: Server;
  let other: Server;
  let base: string;
  let otherOrigin: string;
  let index: KeyIndex;
  let indexSha256: string;
  const requests: string[] = [];
  let buildDirs = 0;
  const freshBuildDir = () => path.join(root, `build-${++buildDirs}`);

  /** Serves `<site>` under /rel/; /moved/ redirects there (same origin), /away/ to the other server (another origin), /cut/ breaks off every zkey half-way. */
  function handler(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    requests.push(url.pathname);
    const [, route, ...rest] = url.pathname.split("/");
    const relative = decodeURIComponent(rest.join("/"));
    if (route === "moved") return void response.writeHead(302, { location: `/rel/${rest.join("/")}` }).end();
    if (route === "away") return void response.writeHead(302, { location: `${otherOrigin}/rel/${rest.join("/")}` }).end();
    const file = path.join(site, route === "page" ? "page" : "", path.normalize(relative));
    if ((route !== "rel" && route !== "cut" && route !== "page") || !file.startsWith(site) || !existsSync(file) || !statSync(file).isFile()) {
      return void response.writeHead(404).end("not found");
    }
    const bytes = readFileSync(file);
    const type = file.endsWith(".js") ? "text/javascript" : file.endsWith(".html") ? "text/html" : "application/octet-stream";
    response.writeHead(200, { "content-length": bytes.byteLength, "content-type": type });
    if (route === "cut" && file.endsWith(".zkey")) {
      // Announces the whole file, sends half, and drops the connection.
      response.write(bytes.subarray(0, bytes.byteLength >> 1), () => response.destroy());
      return;
    }
    response.end(bytes);
  }

  const listen = (s: Server) => new Promise<string>((resolve) => s.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

  /**
   * A copy of the published release as version `name` (files hard-linked: cheap), the index's
   * version set to `name`, then `mutate` applied. Mutations must replace files (`replace`), never
   * write through a link into the original.
   */
  function variant(name: string, mutate: (dir: string, index: KeyIndex) => void = () => {}): { dir: string; indexSha256: string } {
    const from = path.join(site, VERSION);
    const dir = path.join(site, name);
    rmSync(dir, { recursive: true, force: true });
    for (const instance of [SOLVENCY, REBALANCE]) {
      mkdirSync(path.join(dir, instance), { recursive: true });
      for (const file of readdirSync(path.join(from, instance))) linkSync(path.join(from, instance, file), path.join(dir, instance, file));
    }
    const copy = structuredClone(index);
    copy.version = name;
    mutate(dir, copy);
    const text = `${JSON.stringify(copy, null, 2)}\n`;
    writeFileSync(path.join(dir, "index.json"), text);
    return { dir, indexSha256: sha256(text) };
  }
  const replace = (file: string, bytes: Uint8Array | string) => {
    rmSync(file, { force: true });
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  };
  /** Re-lists a file in the index after it was replaced, as an attacker who also rewrites the index would. */
  const relist = (dir: string, index: KeyIndex, instance: string, kind: "wasm" | "zkey" | "vkey" | "verifier") => {
    const entry = index.instances[instance]!.files[kind]!;
    const bytes = readFileSync(path.join(dir, entry.path));
    entry.sha256 = sha256(bytes);
    entry.bytes = bytes.byteLength;
  };
  const flipByte = (file: string, at: number) => {
    const bytes = new Uint8Array(readFileSync(file));
    bytes[at] = bytes[at]! ^ 0x01;
    replace(file, bytes);
  };

  before(async function () {
    for (const instance of [SOLVENCY, REBALANCE]) {
      if (!readManifest(instanceDir(defaultBuildPaths(), instance))?.setupKey) throw new Error(`${instance} has no keys: run \`npx zks setup --tier test\` first`);
    }
    root = mkdtempSync(path.join(tmpdir(), "zks-keys-"));
    site = path.join(root, "site");
    server = createServer(handler);
    other = createServer(handler);
    base = `${await listen(server)}/rel/`;
    otherOrigin = await listen(other);
    const started = performance.now();
    const published = await zksAsync(["keys", "publish", "--out", site, "--version", VERSION, "--instance", SOLVENCY, REBALANCE, "--allow-development-key", "--json"]);
    assert.equal(published.code, 0, published.stderr);
    console.log(`      (publish: ${((performance.now() - started) / 1000).toFixed(1)} s for 2 instances)`);
    const result = JSON.parse(published.stdout) as { indexSha256: string; dir: string };
    indexSha256 = result.indexSha256;
    index = JSON.parse(readFileSync(path.join(site, VERSION, "index.json"), "utf8")) as KeyIndex;
  });

  after(async function () {
    server?.close();
    other?.close();
    server?.closeAllConnections();
    other?.closeAllConnections();
    if (root) rmSync(root, { recursive: true, force: true });
    await releaseProverThreads();
  });

  describe("zks keys publish", function () {
    it("writes index.json listing every file's sha256 and size, the key hash its verifier returns and the key source; prints the index's sha256", function () {
      const text = readFileSync(path.join(site, VERSION, "index.json"));
      assert.equal(sha256(text), indexSha256);
      assert.equal(index.kind, "zk-solvency-keys");
      assert.equal(index.version, VERSION);
      assert.deepEqual(Object.keys(index.instances), [SOLVENCY, REBALANCE]);
      for (const instance of [SOLVENCY, REBALANCE]) {
        const entry = index.instances[instance]!;
        const manifest = readManifest(instanceDir(defaultBuildPaths(), instance))!;
        assert.equal(entry.verificationKeyHash, manifest.verificationKeyHash);
        assert.deepEqual(entry.keySource, { kind: "development", contributions: 1 });
        assert.equal(entry.files.zkey.sha256, manifest.zkeySha256);
        for (const file of Object.values(entry.files)) {
          const bytes = readFileSync(path.join(site, VERSION, file!.path));
          assert.equal(file!.bytes, bytes.byteLength);
          assert.equal(file!.sha256, sha256(bytes));
        }
      }
      // `zks setup` compiles each verifier with solc-js when it can: then the release carries it.
      const withVerifier = Object.entries(index.instances)
        .filter(([, entry]) => entry.files.verifier)
        .map(([name]) => name);
      console.log(`      (verifier.json published for: ${withVerifier.join(", ") || "none"})`);
    });

    it("refuses a development key without --allow-development-key, an existing version and a version that is not one path segment (exit 2)", async function () {
      const [development, existing] = await Promise.all([
        zksAsync(["keys", "publish", "--out", path.join(root, "other-site"), "--version", "1.0.0", "--instance", SOLVENCY]),
        zksAsync(["keys", "publish", "--out", site, "--version", VERSION, "--instance", SOLVENCY, "--allow-development-key"]),
      ]);
      assertRefused(development, 2, /--allow-development-key: .*solvency-3x3x16 \(DEVELOPMENT key\).*can forge proofs/);
      assert.ok(!existsSync(path.join(root, "other-site", "1.0.0")));
      assertRefused(existing, 2, /--version: 9\.9\.9-test: .* already exists: a published release never changes/);
      await rejectsWith(
        publishKeys({ outDir: site, version: "../escape", instances: [SOLVENCY], allowDevelopmentKey: true }),
        InputError,
        2,
        /--version: \.\.\/escape: expected a release version/,
      );
      assert.ok(!existsSync(path.join(root, "escape")));
    });
  });

  describe("zks keys fetch", function () {
    let installed: string;

    it("installs a release over HTTP, pinned by its index sha256, into an empty build dir; zks prove and zks verify then work with the fetched keys", async function () {
      installed = freshBuildDir();
      const env = { ZKS_BUILD_DIR: installed };
      let started = performance.now();
      const fetched = await zksAsync(["keys", "fetch", "--from", base, "--version", VERSION, "--expect-index-sha256", indexSha256], env);
      const fetchSeconds = (performance.now() - started) / 1000;
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.match(fetched.stdout, new RegExp(`release ${VERSION} from ${base}${VERSION}/, index sha256 ${indexSha256}, pinned by index sha256`));
      assert.match(fetched.stdout, /solvency-3x3x16 +installed +key 0x[0-9a-f]{64} +DEVELOPMENT key/);
      assert.match(fetched.stderr, /WARNING keys that are not deployable/);
      for (const instance of [SOLVENCY, REBALANCE]) {
        const manifest = readManifest(path.join(installed, "circuits", instance))!;
        assert.equal(manifest.verificationKeyHash, index.instances[instance]!.verificationKeyHash);
        assert.ok(existsSync(path.join(installed, "contracts", `${instance === SOLVENCY ? "Solvency3x3x16" : "Rebalance3x3x16"}Verifier.sol`)));
      }
      // The generated verifier is the text `zks setup` writes for the same key.
      const checkoutVerifier = path.join(PACKAGE_ROOT, "packages", "contracts", "contracts", "generated", "Solvency3x3x16Verifier.sol");
      if (existsSync(checkoutVerifier) && process.env.ZKS_BUILD_DIR === undefined) {
        assert.equal(readFileSync(path.join(installed, "contracts", "Solvency3x3x16Verifier.sol"), "utf8"), readFileSync(checkoutVerifier, "utf8"));
      }

      started = performance.now();
      const out = path.join(root, "proof");
      const proved = await zksAsync(
        ["prove", "health", "--position", example("position-healthy.json"), "--market", example("market-grid.json"), "--policy", example("policy.json"), "--out", out],
        env,
      );
      assert.equal(proved.code, 0, proved.stderr);
      assert.match(proved.stdout, new RegExp(`key ${index.instances[SOLVENCY]!.verificationKeyHash}`));
      const verified = await zksAsync(["verify", "--proof", path.join(out, "proof.json"), "--json"], env);
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal(JSON.parse(verified.stdout).valid, true);
      console.log(
        `      (fetch ${fetchSeconds.toFixed(1)} s for ${((index.instances[SOLVENCY]!.files.zkey.bytes + index.instances[REBALANCE]!.files.zkey.bytes) / 1e6).toFixed(0)} MB of zkeys; prove + verify ${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );

      const again = await fetchKeys({ baseUrl: base, version: VERSION, buildDir: installed });
      assert.deepEqual(
        again.instances.map((i) => i.state),
        ["unchanged", "unchanged"],
      );
    });

    it("from a folder, pinned by a key hash, via the Node API; loadCircuitArtifacts reads what it installed", async function () {
      const buildDir = freshBuildDir();
      const result = await fetchKeys({
        baseUrl: site,
        version: VERSION,
        instances: [SOLVENCY],
        expected: { verificationKeyHashes: { [SOLVENCY]: index.instances[SOLVENCY]!.verificationKeyHash } },
        buildDir,
      });
      assert.deepEqual(result.pinnedBy, ["key hash"]);
      assert.deepEqual(
        result.instances.map((i) => [i.instance, i.state, i.sameCircuitSources]),
        [[SOLVENCY, "installed", true]],
      );
      const artifacts = loadCircuitArtifacts(SOLVENCY, { buildDir });
      assert.equal(artifacts.template, "Solvency");
      assert.equal(readFileSync(artifacts.zkey as string).byteLength, index.instances[SOLVENCY]!.files.zkey.bytes);
      assert.deepEqual(readdirSync(path.join(buildDir, "circuits")), [SOLVENCY]);
    });

    it("keeps an installed different key without --force (exit 2, untouched) and replaces it with --force", async function () {
      const buildDir = freshBuildDir();
      await fetchKeys({ baseUrl: site, version: VERSION, instances: [SOLVENCY], buildDir });
      // Another key installed for the instance (as another release or `zks setup` would leave it).
      const dir = path.join(buildDir, "circuits", SOLVENCY);
      const manifestFile = path.join(dir, "manifest.json");
      const otherKey = { ...JSON.parse(readFileSync(manifestFile, "utf8")), verificationKeyHash: `0x${"ab".repeat(32)}`, zkeySha256: "cd".repeat(32) };
      writeFileSync(manifestFile, JSON.stringify(otherKey));
      const env = { ZKS_BUILD_DIR: buildDir };
      const kept = await zksAsync(["keys", "fetch", "--from", base, "--version", VERSION, "--instance", SOLVENCY], env);
      assertRefused(
        kept,
        2,
        /--force: .*already holds another key for solvency-3x3x16 \(DEVELOPMENT key, hash 0xabab.*\) than release 9\.9\.9-test's .*pass --force to replace it/,
      );
      assert.equal(readManifest(dir)!.verificationKeyHash, otherKey.verificationKeyHash);
      const forced = await fetchKeys({ baseUrl: base, version: VERSION, instances: [SOLVENCY], force: true, buildDir });
      assert.equal(forced.instances[0]!.state, "replaced");
      assert.equal(readManifest(dir)!.verificationKeyHash, index.instances[SOLVENCY]!.verificationKeyHash);
      assert.deepEqual(readdirSync(path.join(buildDir, "circuits")), [SOLVENCY], "no folder left aside");
    });

    it("bad flags: one line, exit 2", async function () {
      const buildDir = freshBuildDir();
      const env = { ZKS_BUILD_DIR: buildDir };
      const runs = await Promise.all([
        zksAsync(["keys", "fetch", "--from", base, "--version", VERSION, "--expect-key-hash", "0x1234"], env),
        zksAsync(["keys", "fetch", "--from", "ftp://127.0.0.1/keys", "--version", VERSION], env),
      ]);
      assertRefused(runs[0]!, 2, /--expect-key-hash: 0x1234: expected INSTANCE=0x<64 hex digits>/);
      assertRefused(runs[1]!, 2, /--from: ftp:\/\/127\.0\.0\.1\/keys: expected an http\(s\) URL or a directory/);
      // The same checks without a process each (the CLI passes its flags to fetchKeys as they are).
      await rejectsWith(
        fetchKeys({ baseUrl: base, version: VERSION, expected: { indexSha256: "not-a-hash" }, buildDir }),
        InputError,
        2,
        /--expect-index-sha256: not-a-hash: expected the index's sha256: 64 hex digits/,
      );
      await rejectsWith(fetchKeys({ baseUrl: base, version: "../../etc", buildDir }), InputError, 2, /--version: \.\.\/\.\.\/etc: expected a release version/);
      await rejectsWith(
        fetchKeys({ baseUrl: base, version: VERSION, expected: { verificationKeyHashes: { [SOLVENCY]: "0xzz" } }, buildDir }),
        InputError,
        2,
        /--expect-key-hash: 0xzz: expected a verification key hash/,
      );
      await rejectsWith(fetchKeys({ baseUrl: base, version: VERSION, instances: ["nope"], buildDir }), ArtifactFetchError, 3, /release 9\.9\.9-test has no keys for nope/);
      assertNothingInstalled(buildDir);
    });
  });

  describe("attacks on a release: each refused with its named error, nothing installed", function () {
    /** zks keys fetch of release `version` into a fresh build dir: refused with `code` and `fragment`, nothing installed. */
    async function cliRefuses(from: string, version: string, code: number, fragment: RegExp, extra: string[] = []): Promise<void> {
      const buildDir = freshBuildDir();
      const result = await zksAsync(["keys", "fetch", "--from", from, "--version", version, ...extra], { ZKS_BUILD_DIR: buildDir });
      assertRefused(result, code, fragment);
      assertNothingInstalled(buildDir);
    }
    /** The same through the Node API (no process start-up: most cases run here). */
    async function apiRefuses(
      from: string,
      version: string,
      type: new (...args: never[]) => ZksError,
      code: number,
      fragment: RegExp,
      expected?: { indexSha256?: string; verificationKeyHashes?: Record<string, string> },
    ): Promise<void> {
      const buildDir = freshBuildDir();
      await rejectsWith(fetchKeys({ baseUrl: from, version, expected, buildDir }), type, code, fragment);
      assertNothingInstalled(buildDir);
    }

    it("a tampered zkey (zks keys fetch: ArtifactIntegrityError, exit 1, both sha256s); the valid instance before it is not installed either", async function () {
      variant("tampered-zkey", (dir) => flipByte(path.join(dir, SOLVENCY, "circuit.zkey"), 5000));
      const listed = index.instances[SOLVENCY]!.files.zkey.sha256;
      await cliRefuses(
        base,
        "tampered-zkey",
        1,
        new RegExp(`tampered-zkey/solvency-3x3x16/circuit\\.zkey: sha256 [0-9a-f]{64}, but .*index\\.json lists ${listed} \\(an altered or different file\\)`),
      );
      // Rebalance tampered, solvency (checked first) intact: still nothing installed.
      variant("tampered-rebalance", (dir) => flipByte(path.join(dir, REBALANCE, "main.wasm"), 100));
      await apiRefuses(base, "tampered-rebalance", ArtifactIntegrityError, 1, /rebalance-3x3x16\/main\.wasm: sha256 .* lists/);
    });

    it("a tampered wasm, vkey or verifier.json (ArtifactIntegrityError naming the file)", async function () {
      variant("tampered-wasm", (dir) => flipByte(path.join(dir, SOLVENCY, "main.wasm"), 1000));
      await apiRefuses(base, "tampered-wasm", ArtifactIntegrityError, 1, /solvency-3x3x16\/main\.wasm: sha256 [0-9a-f]{64}, but .* lists [0-9a-f]{64}/);
      variant("tampered-vkey", (dir) => {
        const file = path.join(dir, SOLVENCY, "verification_key.json");
        replace(file, readFileSync(file, "utf8").replace(/"nPublic": 6/, '"nPublic": 5'));
      });
      await apiRefuses(base, "tampered-vkey", ArtifactIntegrityError, 1, /solvency-3x3x16\/verification_key\.json: sha256 .* lists/);
      const withVerifier = [SOLVENCY, REBALANCE].find((instance) => index.instances[instance]!.files.verifier);
      if (!withVerifier) return; // Built without solc: no verifier.json to tamper with.
      variant("tampered-verifier", (dir) => {
        const file = path.join(dir, withVerifier, "verifier.json");
        const text = readFileSync(file, "utf8");
        const at = text.indexOf('"0x', text.indexOf('"deployedBytecode"')) + 40;
        replace(file, `${text.slice(0, at)}${text[at] === "0" ? "1" : "0"}${text.slice(at + 1)}`);
      });
      await apiRefuses(base, "tampered-verifier", ArtifactIntegrityError, 1, new RegExp(`${withVerifier}/verifier\\.json: sha256 .* lists`));
      // Another instance's compiled verifier, renamed and re-listed: it does not hold this key.
      const donor = [SOLVENCY, REBALANCE].find((instance) => instance !== withVerifier && index.instances[instance]!.files.verifier);
      if (!donor) return;
      variant("foreign-verifier", (dir, copy) => {
        const json = JSON.parse(readFileSync(path.join(dir, donor, "verifier.json"), "utf8"));
        json.contractName = copy.instances[withVerifier]!.verifierContract;
        replace(path.join(dir, withVerifier, "verifier.json"), JSON.stringify(json));
        relist(dir, copy, withVerifier, "verifier");
      });
      await apiRefuses(
        base,
        "foreign-verifier",
        ArtifactIntegrityError,
        1,
        new RegExp(
          `${withVerifier}/verifier\\.json: its deployedBytecode lacks word \\d+ of the published verification key \\(hash ${index.instances[withVerifier]!.verificationKeyHash}\\): a verifier of another key`,
        ),
      );
    });

    it("a verification key swapped together with the index's hashes: caught by its public signal count, and by a key-hash pin before any zkey is downloaded", async function () {
      // The rebalance key under the solvency name, the index rewritten to match, nPublic too.
      variant("swapped-vkey", (dir, copy) => {
        replace(path.join(dir, SOLVENCY, "verification_key.json"), readFileSync(path.join(dir, REBALANCE, "verification_key.json")));
        relist(dir, copy, SOLVENCY, "vkey");
        const entry = copy.instances[SOLVENCY]!;
        entry.verificationKeyHash = index.instances[REBALANCE]!.verificationKeyHash;
        delete entry.files.verifier;
      });
      await apiRefuses(base, "swapped-vkey", ArtifactIntegrityError, 1, /verification_key\.json: a key for \d+ public signals, but solvency-3x3x16 has 6/);
      const pinned = index.instances[SOLVENCY]!.verificationKeyHash;
      requests.length = 0;
      await apiRefuses(
        base,
        "swapped-vkey",
        ArtifactIntegrityError,
        1,
        new RegExp(`its key hash is ${index.instances[REBALANCE]!.verificationKeyHash}, not the pinned ${pinned}`),
        { verificationKeyHashes: { [SOLVENCY]: pinned } },
      );
      assert.ok(!requests.some((r) => r.endsWith(".zkey") || r.endsWith(".wasm")), "refused before the proving key was downloaded");
    });

    it("a zkey that is not its vkey's: another instance's zkey with a rewritten index (the sha256s all match)", async function () {
      variant("foreign-zkey", (dir, copy) => {
        replace(path.join(dir, SOLVENCY, "circuit.zkey"), readFileSync(path.join(dir, REBALANCE, "circuit.zkey")));
        relist(dir, copy, SOLVENCY, "zkey");
      });
      await apiRefuses(
        base,
        "foreign-zkey",
        ArtifactIntegrityError,
        1,
        new RegExp(
          `solvency-3x3x16/circuit\\.zkey: this proving key's verification key \\(hash ${index.instances[REBALANCE]!.verificationKeyHash}\\) is not .*verification_key\\.json \\(hash ${index.instances[SOLVENCY]!.verificationKeyHash}\\)`,
        ),
      );
    });

    it("an index whose entry for an instance is another instance's: its paths, or (rewritten) its declared circuit", async function () {
      variant("swapped-entry", (_dir, copy) => {
        copy.instances[SOLVENCY] = structuredClone(index.instances[REBALANCE]!);
      });
      await apiRefuses(
        base,
        "swapped-entry",
        ArtifactIntegrityError,
        1,
        /instances\.solvency-3x3x16\.files\.wasm\.path: "rebalance-3x3x16\/main\.wasm" is not a file of solvency-3x3x16's own folder/,
      );
      // The attacker also copies the files into solvency's folder and rewrites the paths.
      variant("swapped-entry-moved", (dir, copy) => {
        const entry = structuredClone(index.instances[REBALANCE]!);
        for (const file of Object.values(entry.files)) {
          const name = path.basename(file!.path);
          replace(path.join(dir, SOLVENCY, name), readFileSync(path.join(dir, REBALANCE, name)));
          file!.path = `${SOLVENCY}/${name}`;
        }
        copy.instances[SOLVENCY] = entry;
      });
      await apiRefuses(
        base,
        "swapped-entry-moved",
        ArtifactIntegrityError,
        1,
        /instances\.solvency-3x3x16\.template is "Rebalance", but this install declares "Solvency" for solvency-3x3x16/,
      );
    });

    it("truncated downloads: a short file (ArtifactIntegrityError: sizes), a connection cut mid-body (zks keys fetch: ArtifactFetchError, exit 3)", async function () {
      variant("short-zkey", (dir) => {
        const file = path.join(dir, SOLVENCY, "circuit.zkey");
        replace(file, readFileSync(file).subarray(0, 1_000_000));
      });
      await apiRefuses(
        base,
        "short-zkey",
        ArtifactIntegrityError,
        1,
        new RegExp(`circuit\\.zkey: 1000000 bytes, but .* lists ${index.instances[SOLVENCY]!.files.zkey.bytes} \\(a truncated or different file\\)`),
      );
      await cliRefuses(base.replace("/rel/", "/cut/"), VERSION, 3, /\/cut\/9\.9\.9-test\/solvency-3x3x16\/circuit\.zkey: the download broke off after \d+ bytes/);
    });

    it("a wrong pinned index sha256 (ArtifactIntegrityError, both hashes)", async function () {
      const wrong = "0".repeat(64);
      await apiRefuses(base, VERSION, ArtifactIntegrityError, 1, new RegExp(`9\\.9\\.9-test/index\\.json: sha256 ${indexSha256} is not the pinned ${wrong}`), {
        indexSha256: wrong,
      });
    });

    it("paths that leave the release: `../` in the index (over HTTP and from a folder), a symlink out of the folder", async function () {
      const secret = path.join(root, "secret.wasm");
      writeFileSync(secret, "not for you");
      variant("escaping-path", (_dir, copy) => {
        copy.instances[SOLVENCY]!.files.wasm.path = `${SOLVENCY}/../../../secret.wasm`;
      });
      await apiRefuses(
        base,
        "escaping-path",
        ArtifactIntegrityError,
        1,
        /instances\.solvency-3x3x16\.files\.wasm\.path: "solvency-3x3x16\/\.\.\/\.\.\/\.\.\/secret\.wasm" is not a file of solvency-3x3x16's own folder/,
      );
      await apiRefuses(site, "escaping-path", ArtifactIntegrityError, 1, /files\.wasm\.path: .* is not a file of solvency-3x3x16's own folder/);
      variant("symlinked", (dir) => {
        rmSync(path.join(dir, SOLVENCY, "main.wasm"));
        symlinkSync(secret, path.join(dir, SOLVENCY, "main.wasm"));
      });
      await apiRefuses(site, "symlinked", ArtifactIntegrityError, 1, /main\.wasm: links to .*secret\.wasm, outside the release/);
    });

    it("redirects: followed within the origin, refused to another origin (zks keys fetch: ArtifactFetchError, exit 3)", async function () {
      const buildDir = freshBuildDir();
      const moved = await fetchKeys({ baseUrl: base.replace("/rel/", "/moved/"), version: VERSION, instances: [SOLVENCY], buildDir });
      assert.equal(moved.instances[0]!.state, "installed");
      await cliRefuses(
        base.replace("/rel/", "/away/"),
        VERSION,
        3,
        new RegExp(`/away/9\\.9\\.9-test/index\\.json: redirected to ${otherOrigin}/rel/9\\.9\\.9-test/index\\.json, another origin than http://127\\.0\\.0\\.1:\\d+: refused`),
      );
    });

    it("an older release's index served under a newer version, a malformed or oversized index, an instance the release lacks, an unreachable server, HTTP 404", async function () {
      variant("replayed", (_dir, copy) => {
        copy.version = VERSION;
      });
      await apiRefuses(base, "replayed", ArtifactIntegrityError, 1, /replayed\/index\.json: is the index of release "9\.9\.9-test", not of the requested "replayed"/);
      variant("malformed", (_dir, copy) => {
        (copy.instances[SOLVENCY]!.files.zkey as { bytes: number }).bytes = -1;
      });
      await apiRefuses(
        base,
        "malformed",
        ArtifactIntegrityError,
        1,
        /malformed\/index\.json: not a key release index: instances\.solvency-3x3x16\.files\.zkey\.bytes: expected an integer from 1 to/,
      );
      const huge = variant("huge-index");
      replace(path.join(huge.dir, "index.json"), `${JSON.stringify({ ...index, version: "huge-index", padding: "x".repeat(1 << 20) })}`);
      await apiRefuses(base, "huge-index", ArtifactIntegrityError, 1, /huge-index\/index\.json: the server announces \d+ bytes, more than the 1048576 allowed/);
      variant("solvency-only", (_dir, copy) => {
        delete copy.instances[REBALANCE];
      });
      const buildDir = freshBuildDir();
      await rejectsWith(
        fetchKeys({ baseUrl: base, version: "solvency-only", instances: [REBALANCE], buildDir }),
        ArtifactFetchError,
        3,
        /release solvency-only has no keys for rebalance-3x3x16 \(it publishes solvency-3x3x16\)/,
      );
      assertNothingInstalled(buildDir);
      const closed = createServer();
      const closedUrl = await listen(closed);
      await new Promise((resolve) => closed.close(resolve));
      await apiRefuses(`${closedUrl}/rel/`, VERSION, ArtifactFetchError, 3, /index\.json: unreachable \(fetch failed.*ECONNREFUSED/);
      await apiRefuses(base, "0.0.0-never-published", ArtifactFetchError, 3, /0\.0\.0-never-published\/index\.json: HTTP 404/);
    });

    it("a key labelled ceremony is installed only when pinned (exit 2 unpinned)", async function () {
      const ceremony = variant("ceremony-label", (_dir, copy) => {
        copy.instances[SOLVENCY]!.keySource = { kind: "ceremony", contributions: 3, beacon: "00".repeat(32), transcriptSha256: "11".repeat(32) };
        delete copy.instances[REBALANCE];
      });
      await cliRefuses(base, "ceremony-label", 2, /--expect-key-hash: solvency-3x3x16 is published as a ceremony key, which is installed only when pinned/);
      const buildDir = freshBuildDir();
      const result = await fetchKeys({ baseUrl: base, version: "ceremony-label", expected: { indexSha256: ceremony.indexSha256 }, buildDir });
      assert.equal(result.instances[0]!.keySource.kind, "ceremony");
    });
  });

  describe("fetchCircuitArtifacts (SDK, browser-safe)", function () {
    const inputs = () => {
      const market = parseMarket(readJsonFile(example("market-grid.json")), "market-grid.json");
      return {
        market,
        position: parsePosition(readJsonFile(example("position-healthy.json")), "position-healthy.json", market),
        policy: parsePolicy(readJsonFile(example("policy.json")), "policy.json", market),
      };
    };

    it("returns checked bytes (through an injected fetch) that proveSolvency proves with and verifySolvency accepts", async function () {
      const seen: string[] = [];
      const artifacts = await fetchCircuitArtifacts({
        baseUrl: base,
        version: VERSION,
        instance: SOLVENCY,
        expected: { indexSha256, verificationKeyHash: index.instances[SOLVENCY]!.verificationKeyHash },
        fetch: (url, init) => {
          seen.push(url);
          return fetch(url, init);
        },
      });
      assert.deepEqual(
        seen.map((url) => url.slice(base.length)),
        [`${VERSION}/index.json`, `${VERSION}/${SOLVENCY}/verification_key.json`, `${VERSION}/${SOLVENCY}/main.wasm`, `${VERSION}/${SOLVENCY}/circuit.zkey`],
      );
      assert.ok(artifacts.zkey instanceof Uint8Array && artifacts.wasm instanceof Uint8Array);
      assert.equal(artifacts.release.indexSha256, indexSha256);
      assert.equal(artifacts.release.info.nConstraints, index.instances[SOLVENCY]!.nConstraints);
      const proof = await proveSolvency(inputs(), artifacts);
      assert.equal(await verifySolvency(proof, artifacts), true);
      console.log(
        `      (Node: read ${artifacts.timings.readMs.toFixed(0)} ms, sha256 ${artifacts.timings.hashMs.toFixed(0)} ms, zkey against vkey ${artifacts.timings.provingKeyCheckMs?.toFixed(0)} ms)`,
      );
    });

    it("an entry of another instance, rewritten throughout to this instance's name and shape, is refused by its key's public signal count", async function () {
      variant("disguised", (dir, copy) => {
        const entry = structuredClone(index.instances[REBALANCE]!);
        for (const file of Object.values(entry.files)) {
          const name = path.basename(file!.path);
          replace(path.join(dir, SOLVENCY, name), readFileSync(path.join(dir, REBALANCE, name)));
          file!.path = `${SOLVENCY}/${name}`;
        }
        copy.instances[SOLVENCY] = { ...entry, template: "Solvency", params: [3, 3, 16, 15], publicSignals: index.instances[SOLVENCY]!.publicSignals, nPublic: 6 };
      });
      await rejectsWith(
        fetchCircuitArtifacts({ baseUrl: base, version: "disguised", instance: SOLVENCY }),
        ArtifactIntegrityError,
        1,
        /verification_key\.json: a key for \d+ public signals, but solvency-3x3x16 has 6/,
      );
    });

    it("bad options are InputError (exit 2)", async function () {
      await rejectsWith(
        fetchCircuitArtifacts({ baseUrl: "file:///etc/", version: VERSION, instance: SOLVENCY }),
        InputError,
        2,
        /baseUrl: file:\/\/\/etc\/: expected an http\(s\) URL, not file:/,
      );
      await rejectsWith(fetchCircuitArtifacts({ baseUrl: base, version: VERSION, instance: "../x" }), InputError, 2, /instance: \.\.\/x: expected an instance name/);
      await rejectsWith(
        fetchCircuitArtifacts({ baseUrl: base, version: VERSION, instance: SOLVENCY, expected: { verificationKeyHash: "0x12" } }),
        InputError,
        2,
        /expected\.verificationKeyHash: 0x12: expected a verification key hash/,
      );
    });
  });

  describe("fetchCircuitArtifacts in Chromium", function () {
    let browser: Browser | undefined;
    before(function () {
      if (!chromiumAvailable()) {
        if (process.env.ZKS_REQUIRE_BROWSER === "1") throw new Error("no Chromium (ZKS_REQUIRE_BROWSER=1)");
        this.skip();
      }
    });
    after(async () => browser?.close());

    it("checks a release with WebCrypto in the page (timings of each check); a tampered zkey is an ArtifactIntegrityError there too", async function () {
      // The artifacts entry alone, for the browser, with snarkjs split into the chunk loaded only for the zkey check.
      const pageDir = path.join(site, "page");
      mkdirSync(pageDir, { recursive: true });
      const build = await esbuild.build({
        absWorkingDir: PACKAGE_ROOT,
        entryPoints: { artifacts: path.join(PACKAGE_ROOT, "packages", "sdk", "src", "artifacts", "index.ts") },
        outdir: pageDir,
        bundle: true,
        splitting: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        conditions: ["@zk-solvency/source", "browser"],
        minify: true,
        // As the SDK's own browser build: error classes keep their names (ArtifactIntegrityError).
        keepNames: true,
        metafile: true,
        logLevel: "silent",
      });
      assert.deepEqual(nodeLeaks(build.metafile), []);
      const outputs = Object.entries(build.metafile.outputs).filter(([file]) => file.endsWith(".js"));
      // esbuild lists a dynamic import's target as an entry point of its own: the page's entry is the one named artifacts.js.
      const entryBytes = outputs.find(([file]) => path.basename(file) === "artifacts.js")![1].bytes;
      const chunkBytes = outputs.filter(([file]) => path.basename(file) !== "artifacts.js").reduce((sum, [, info]) => sum + info.bytes, 0);
      assert.ok(chunkBytes > entryBytes, "snarkjs is a chunk of its own, loaded only for the zkey check");
      writeFileSync(path.join(pageDir, "index.html"), "<!doctype html><title>keys</title>");
      variant("tampered-zkey-browser", (dir) => flipByte(path.join(dir, SOLVENCY, "circuit.zkey"), 5000));

      browser = await launchChromium();
      const page = await browser.newPage();
      const origin = base.replace(/\/rel\/$/, "");
      await page.goto(`${origin}/page/index.html`);
      const run = (version: string, checkProvingKey: boolean) =>
        page.evaluate(
          async ({ base, version, instance, checkProvingKey, pin, moduleUrl }) => {
            const sdk = await import(moduleUrl);
            try {
              const a = await sdk.fetchCircuitArtifacts({ baseUrl: base, version, instance, checkProvingKey, expected: { verificationKeyHash: pin } });
              return { ok: true as const, zkey: a.zkey.byteLength, timings: a.timings, secure: window.isSecureContext };
            } catch (error) {
              const e = error as { name: string; message: string; exitCode?: number };
              return { ok: false as const, name: e.name, message: e.message, exitCode: e.exitCode };
            }
          },
          { base, version, instance: SOLVENCY, checkProvingKey, pin: index.instances[SOLVENCY]!.verificationKeyHash, moduleUrl: "/page/artifacts.js" },
        );
      const first = await run(VERSION, true);
      assert.ok(first.ok, JSON.stringify(first));
      assert.equal(first.zkey, index.instances[SOLVENCY]!.files.zkey.bytes);
      assert.equal(first.secure, true, "127.0.0.1 is a secure context: WebCrypto's sha256");
      const second = await run(VERSION, true);
      const unchecked = await run(VERSION, false);
      assert.ok(second.ok && unchecked.ok);
      const tampered = await run("tampered-zkey-browser", true);
      assert.equal(tampered.ok, false);
      assert.deepEqual([tampered.ok === false && tampered.name, tampered.ok === false && tampered.exitCode], ["ArtifactIntegrityError", 1]);
      assert.match(tampered.ok === false ? tampered.message : "", /circuit\.zkey: sha256 [0-9a-f]{64}, but .* lists/);
      const ms = (t: { readMs: number; hashMs: number; provingKeyCheckMs: number | null; totalMs: number }) =>
        `read ${t.readMs.toFixed(0)} ms, sha256 ${t.hashMs.toFixed(0)} ms, zkey check ${t.provingKeyCheckMs === null ? "off" : `${t.provingKeyCheckMs.toFixed(0)} ms`}, total ${t.totalMs.toFixed(0)} ms`;
      console.log(
        `      (Chromium, ${(index.instances[SOLVENCY]!.files.zkey.bytes / 1e6).toFixed(1)} MB zkey: first ${ms(first.timings)}; again ${ms(second.timings)}; unchecked ${ms(unchecked.timings)})`,
      );
      console.log(
        `      (bundle: artifacts entry ${(entryBytes / 1024).toFixed(0)} KiB minified, + ${(chunkBytes / 1024).toFixed(0)} KiB of lazily loaded chunks (snarkjs) for the zkey check)`,
      );
    });
  });
});

import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

/** The development ptau (power 16, prepared for phase 2): ZKS_PTAU when set, else the shared one. */
export const DEV_PTAU = process.env.ZKS_PTAU ? path.resolve(process.env.ZKS_PTAU) : path.resolve(PACKAGE_ROOT, "../shared/ptau/dev-16.ptau");

/** The README next to the shared development ptau, which lists its b2sum. */
export const DEV_PTAU_README = path.resolve(PACKAGE_ROOT, "../shared/ptau/README.md");

/** BN254's base field, as a ptau header records it. */
export const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** Temporary directories that one `after` hook removes. */
export class TempDirs {
  private readonly dirs: string[] = [];

  /** A fresh directory under `parent` (the OS temp dir by default). */
  make(label: string, parent: string = tmpdir()): string {
    mkdirSync(parent, { recursive: true });
    const dir = mkdtempSync(path.join(parent, `zks-${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `files` (relative path -> contents) under `root`, creating directories. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [relative, contents] of Object.entries(files)) {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, contents);
  }
}

/**
 * A minimal synthetic .ptau holding only the header section (type 1), plus optionally an
 * empty-but-present section 12 when `prepared` — enough for header checks, not for a setup.
 */
export function writeSyntheticPtau(file: string, options: { power: number; prime?: bigint; prepared?: boolean }): void {
  const n8 = 32;
  const prime = Buffer.alloc(n8);
  let q = options.prime ?? BN254_BASE_FIELD;
  for (let i = 0; i < n8; i++) {
    prime[i] = Number(q & 0xffn);
    q >>= 8n;
  }
  const headerBody = Buffer.concat([u32(n8), prime, u32(options.power), u32(options.power)]);
  const sections: Buffer[] = [section(1, headerBody)];
  if (options.prepared) sections.push(section(12, Buffer.alloc(64)));
  writeFileSync(file, Buffer.concat([Buffer.from("ptau", "latin1"), u32(1), u32(sections.length), ...sections]));
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

function section(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32LE(type, 0);
  head.writeBigUInt64LE(BigInt(body.length), 4);
  return Buffer.concat([head, body]);
}

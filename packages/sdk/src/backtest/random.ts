/**
 * A seeded pseudo-random generator for the backtest's paths: the same seed gives the same paths
 * on every run and machine, so a reported result can be reproduced and a test can pin one.
 *
 * Uniforms come from sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 32-bit variant,
 * from PractRand; passes its and TestU01's BigCrush batteries), 128 bits of state seeded through
 * splitmix32 so that nearby seeds (1, 2, 3) give unrelated streams. Only 32-bit integer operations
 * (Math.imul, >>>, |0) are used, so the uniform stream is bit-identical in every JavaScript engine.
 * Normals use Box-Muller (both variates of a pair are used), Poisson counts Knuth's product
 * method (fine for the small per-step means of jump counts). Those go through Math.log, Math.cos
 * and Math.exp, which ECMAScript lets engines round differently in the last bit; results are
 * identical on one engine (V8 / Node, Chromium) and may differ in the last digits elsewhere.
 *
 * Not for cryptography: salts come from src/commitment/salt.ts.
 */

/** splitmix32: expands one 32-bit seed word into well-mixed words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  /** `seed`: an integer in [0, 2^32); the CLI's --seed. */
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    const state = { s: seed | 0 };
    this.a = splitmix32(state);
    this.b = splitmix32(state);
    this.c = splitmix32(state);
    this.d = splitmix32(state);
    // The generator's authors discard the first outputs so the state mixes.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    // 1 - u is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Poisson count with mean `mean` >= 0 (Knuth; meant for means below ~30). */
  poisson(mean: number): number {
    if (!(mean >= 0) || !Number.isFinite(mean)) throw new RangeError(`Poisson mean must be finite and >= 0, got ${mean}`);
    if (mean === 0) return 0;
    const limit = Math.exp(-mean);
    let count = 0;
    let product = this.uniform();
    while (product > limit) {
      count++;
      product *= this.uniform();
    }
    return count;
  }
}

/**
 * Screenshot comparison against committed baselines (test/fixtures/screenshots/NAME.png), with
 * pngjs and pixelmatch: a pixel counts as different when its colour distance passes pixelmatch's
 * threshold (anti-aliased edge pixels are not counted), and a screenshot matches while at most
 * `maxDiffRatio` of its pixels differ. Font hinting and sub-pixel positions move a few edge
 * pixels between runs and machines; a changed number moves a hundred or more, a changed picture
 * thousands.
 *
 *   ZKS_UPDATE_SCREENSHOTS=1 npx mocha ... test/vault-page.e2e.test.ts   # (re)record the baselines
 *
 * On a mismatch the actual screenshot and a diff image (differences in red) are written under
 * $TMPDIR/zks-screenshots/ and the failure names them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pixelmatch from "pixelmatch";
import { PNG } from "pngjs";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

export const SCREENSHOT_DIR = path.join(PACKAGE_ROOT, "test", "fixtures", "screenshots");
export const UPDATE_SCREENSHOTS = process.env.ZKS_UPDATE_SCREENSHOTS === "1";
const FAILURE_DIR = path.join(tmpdir(), "zks-screenshots");

export interface ScreenshotMatch {
  name: string;
  /** Pixels that differ from the baseline (0 when the baseline was just written). */
  diffPixels: number;
  totalPixels: number;
  /** The baseline was (re)written from this screenshot (ZKS_UPDATE_SCREENSHOTS=1). */
  updated: boolean;
}

export interface MatchOptions {
  /** Largest share of differing pixels that still matches. Default 0.002 (0.2%). */
  maxDiffRatio?: number;
  /** pixelmatch's colour-distance threshold, 0..1. Default 0.1. */
  threshold?: number;
  /** Where the baselines are. Default test/fixtures/screenshots (failures then go to $TMPDIR/zks-screenshots; else to DIR/failures). */
  dir?: string;
  /** Write the baseline from this screenshot. Default: ZKS_UPDATE_SCREENSHOTS=1. */
  update?: boolean;
}

function keepFailure(dir: string, name: string, actual: Buffer, diff?: PNG): { actual: string; diff?: string } {
  mkdirSync(dir, { recursive: true });
  const files = { actual: path.join(dir, `${name}.actual.png`), ...(diff && { diff: path.join(dir, `${name}.diff.png`) }) };
  writeFileSync(files.actual, actual);
  if (diff && files.diff) writeFileSync(files.diff, PNG.sync.write(diff));
  return files;
}

/** Compares a PNG screenshot with the baseline `name`.png; throws, naming the files, when it does not match. */
export function matchScreenshot(name: string, screenshot: Buffer, options: MatchOptions = {}): ScreenshotMatch {
  const dir = options.dir ?? SCREENSHOT_DIR;
  const baselineFile = path.join(dir, `${name}.png`);
  const failures = options.dir ? path.join(options.dir, "failures") : FAILURE_DIR;
  const relative = path.relative(PACKAGE_ROOT, baselineFile);
  const actual = PNG.sync.read(screenshot);
  const totalPixels = actual.width * actual.height;
  if (options.update ?? UPDATE_SCREENSHOTS) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(baselineFile, screenshot);
    return { name, diffPixels: 0, totalPixels, updated: true };
  }
  if (!existsSync(baselineFile)) {
    const kept = keepFailure(failures, name, screenshot);
    throw new Error(`no baseline ${relative}: record it with ZKS_UPDATE_SCREENSHOTS=1, look at it, and commit it (this run's screenshot: ${kept.actual})`);
  }
  const baseline = PNG.sync.read(readFileSync(baselineFile));
  if (baseline.width !== actual.width || baseline.height !== actual.height) {
    const kept = keepFailure(failures, name, screenshot);
    throw new Error(`${name}: the screenshot is ${actual.width}x${actual.height}, the baseline ${relative} ${baseline.width}x${baseline.height} (this run's: ${kept.actual})`);
  }
  const diff = new PNG({ width: actual.width, height: actual.height });
  const diffPixels = pixelmatch(baseline.data, actual.data, diff.data, actual.width, actual.height, { threshold: options.threshold ?? 0.1 });
  const allowed = Math.floor(totalPixels * (options.maxDiffRatio ?? 0.002));
  if (diffPixels > allowed) {
    const kept = keepFailure(failures, name, screenshot, diff);
    throw new Error(
      `${name}: ${diffPixels} of ${totalPixels} pixels differ from ${relative} (at most ${allowed} may); this run's screenshot: ${kept.actual}, the differences: ${kept.diff}. If the change is intended, re-record with ZKS_UPDATE_SCREENSHOTS=1`,
    );
  }
  return { name, diffPixels, totalPixels, updated: false };
}

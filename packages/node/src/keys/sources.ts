import { existsSync, openSync, readSync, closeSync, fstatSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { InputError } from "@zk-solvency/sdk/core";
import { ArtifactFetchError, ArtifactIntegrityError, httpReleaseSource, type FetchFunction, type ReleaseSource } from "@zk-solvency/sdk/artifacts";

/**
 * A release in a local folder (`<dir>/<version>/`, as `zks keys publish --out dir` writes it, or
 * a copy of a served one). Files must stay inside the release folder after symlinks are followed:
 * a link inside it to elsewhere is refused like a `../` path.
 */
export function directoryReleaseSource(dir: string, version: string): ReleaseSource {
  const release = path.resolve(dir, version);
  if (!existsSync(release) || !statSync(release).isDirectory()) throw new ArtifactFetchError(release, "no such release directory");
  const root = realpathSync(release);
  const fileOf = (relativePath: string) => {
    const file = path.resolve(release, relativePath);
    const inside = (parent: string, child: string) => {
      const relative = path.relative(parent, child);
      return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
    };
    if (!inside(release, file)) throw new ArtifactIntegrityError(release, `${JSON.stringify(relativePath)} resolves to ${file}, outside the release`);
    return { file, inside };
  };
  return {
    location: release + path.sep,
    where: (relativePath) => fileOf(relativePath).file,
    async read(relativePath, maxBytes) {
      const { file, inside } = fileOf(relativePath);
      let real: string;
      try {
        real = realpathSync(file);
      } catch (error) {
        throw new ArtifactFetchError(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      if (!inside(root, real)) throw new ArtifactIntegrityError(file, `links to ${real}, outside the release`);
      // One descriptor for the size check and the read: the file cannot grow in between.
      const fd = openSync(real, "r");
      try {
        const size = fstatSync(fd).size;
        if (size > maxBytes) throw new ArtifactIntegrityError(file, `${size} bytes, more than the ${maxBytes} allowed (a different file)`, String(maxBytes), String(size));
        const bytes = new Uint8Array(size);
        let offset = 0;
        while (offset < size) {
          const n = readSync(fd, bytes, offset, size - offset, offset);
          if (n === 0) break;
          offset += n;
        }
        return offset === size ? bytes : bytes.subarray(0, offset);
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** `--from`: an http(s) URL, or a local folder. Any other scheme is refused rather than read as a folder name. */
export function releaseSource(from: string, version: string, options: { fetch?: FetchFunction; signal?: AbortSignal } = {}): ReleaseSource {
  if (/^https?:\/\//i.test(from)) return httpReleaseSource(from, version, { ...options, option: "--from" });
  if (/^[a-z][a-z0-9+.-]*:/i.test(from) && !/^[a-z]:[\\/]/i.test(from)) throw new InputError("--from", from, "expected an http(s) URL or a directory");
  return directoryReleaseSource(from, version);
}

import { InputError } from "../core/errors.ts";
import { ArtifactFetchError, ArtifactIntegrityError } from "./errors.ts";
import type { ReleaseSource } from "./release.ts";

export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * The release directory `<baseUrl>/<version>/` as a URL. A relative base resolves against the
 * page; only http(s) is fetched; a query or fragment is refused, since file paths are resolved
 * against the directory and would silently drop it.
 */
export function releaseUrl(baseUrl: string | URL, version: string, option = "baseUrl"): URL {
  let base: URL;
  try {
    base = new URL(baseUrl, (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    throw new InputError(option, String(baseUrl), "not a URL");
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") throw new InputError(option, String(baseUrl), `expected an http(s) URL, not ${base.protocol}`);
  if (base.search || base.hash) throw new InputError(option, String(baseUrl), "a release base URL has no query or fragment");
  if (base.username || base.password) throw new InputError(option, String(baseUrl), "credentials in the URL would be sent with every request and printed in messages: use an authenticating fetch instead");
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return new URL(`${encodeURIComponent(version)}/`, base);
}

/**
 * Reads a release over HTTP(S) with `fetch` (the global one by default). Redirects are followed
 * only within the origin the caller named: the index, when not pinned, is trusted as that origin
 * serves it, and a redirect elsewhere would hand that trust to another host. Bodies are streamed
 * and cut off past the size the index allows.
 */
export function httpReleaseSource(baseUrl: string | URL, version: string, options: { fetch?: FetchFunction; signal?: AbortSignal; option?: string } = {}): ReleaseSource {
  const release = releaseUrl(baseUrl, version, options.option);
  const fetchImpl: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const urlOf = (relativePath: string) => {
    const url = new URL(relativePath, release);
    // key-index.ts already refuses paths that leave their folder; this holds whatever a caller passes.
    if (url.origin !== release.origin || !url.href.startsWith(release.href)) throw new ArtifactIntegrityError(release.href, `${JSON.stringify(relativePath)} resolves to ${url.href}, outside the release`);
    return url;
  };
  return {
    location: release.href,
    where: (relativePath) => urlOf(relativePath).href,
    async read(relativePath, maxBytes, onProgress) {
      const url = urlOf(relativePath).href;
      let response: Response;
      try {
        response = await fetchImpl(url, { redirect: "follow", signal: options.signal });
      } catch (error) {
        throw new ArtifactFetchError(url, `unreachable (${describe(error)})`);
      }
      if (response.url && new URL(response.url).origin !== release.origin) {
        await response.body?.cancel().catch(() => {});
        throw new ArtifactFetchError(url, `redirected to ${response.url}, another origin than ${release.origin}: refused (point the base URL at the host that serves the release)`, response.status);
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new ArtifactFetchError(url, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`, response.status);
      }
      const announced = Number(response.headers.get("content-length"));
      if (Number.isFinite(announced) && announced > maxBytes) {
        await response.body?.cancel().catch(() => {});
        throw new ArtifactIntegrityError(url, `the server announces ${announced} bytes, more than the ${maxBytes} allowed (a different file)`, String(maxBytes), String(announced));
      }
      return readBody(response, url, maxBytes, onProgress);
    },
  };
}

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  // undici wraps the socket error ("fetch failed"); its cause says what happened (ECONNREFUSED...).
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message ? `${error.message}: ${cause.message}` : error.message;
};

/** The body, at most `maxBytes` of it; a connection that breaks off mid-body is a fetch error, not a short file. */
async function readBody(response: Response, url: string, maxBytes: number, onProgress?: (loaded: number, total: number | null) => void): Promise<Uint8Array> {
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw new ArtifactIntegrityError(url, `larger than the ${maxBytes} bytes allowed (a different file)`, String(maxBytes), String(bytes.byteLength));
    onProgress?.(bytes.byteLength, bytes.byteLength);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let reported = 0;
  const reader = response.body.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new ArtifactFetchError(url, `the download broke off after ${loaded} bytes (${describe(error)})`);
    }
    if (chunk.done) break;
    loaded += chunk.value.byteLength;
    if (loaded > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ArtifactIntegrityError(url, `larger than the ${maxBytes} bytes allowed (a different file)`, String(maxBytes), `more than ${maxBytes}`);
    }
    chunks.push(chunk.value);
    // Every 512 KiB: a smooth bar without flooding a page (or a worker's message port).
    if (onProgress && loaded - reported >= 1 << 19) {
      reported = loaded;
      onProgress(loaded, maxBytes);
    }
  }
  onProgress?.(loaded, maxBytes);
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

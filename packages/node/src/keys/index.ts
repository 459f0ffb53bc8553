export { publishKeys, sdkVersion, type PublishKeysOptions, type PublishResult, type PublishedInstance, type Tier } from "./publish.ts";
export { fetchKeys, type FetchKeysOptions, type FetchKeysResult, type FetchedInstance } from "./fetch.ts";
export { directoryReleaseSource, releaseSource } from "./sources.ts";

// The publish stage: golden images shared through S3 or an S3-compatible store. Everything here
// loads the AWS SDK: import it lazily (STYLE.md 5), only from the commands that use it.
export { compareVersions, latestVersion, readCatalogue, type Catalogue, type CatalogueVersion } from "./catalogue.js";
export { createS3Client } from "./client.js";
export { catalogueKey, objectKey, parseImageRef, s3Url, storeName, type ImageRef } from "./layout.js";
export { publishImage, type PublishOptions, type PublishResult, type PublishedFile } from "./publish.js";
export { publishBuiltImage } from "./built.js";
export { pullImage, type PullOptions, type PullResult } from "./pull.js";
export { requirePublishTarget } from "./target.js";

// Usage: node snapshot.mjs HUB_URL REPO REVISION CACHE_DIR
// Downloads a snapshot with @huggingface/hub into CACHE_DIR and prints the snapshot path.
import { snapshotDownload } from "@huggingface/hub";

const [hubUrl, repo, revision, cacheDir] = process.argv.slice(2);
const path = await snapshotDownload({ repo, revision, hubUrl, cacheDir });
console.log(path);

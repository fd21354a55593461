/**
 * Hugging Face Hub client: {@link dev.ckpt.hub.HubClient} (revision, tree, file metadata, ranged GETs with
 * manual redirects), {@link dev.ckpt.hub.HubCache} (the huggingface_hub cache layout) and
 * {@link dev.ckpt.hub.Downloader} (parallel, ranged, resumable, hash-checked snapshot downloads). Depends on
 * OkHttp and Jackson only. Failures are {@link dev.ckpt.hub.HubException}s whose messages never hold a token.
 */
package dev.ckpt.hub;

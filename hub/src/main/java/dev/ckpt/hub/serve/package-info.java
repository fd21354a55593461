/**
 * {@code ckpt serve}: a read-only Hub-compatible HTTP server ({@link dev.ckpt.hub.serve.HubServer}) over model
 * folders and huggingface_hub caches ({@link dev.ckpt.hub.serve.ModelStore}), on the JDK's built-in HTTP server.
 */
package dev.ckpt.hub.serve;

/**
 * PyTorch {@code torch.save} checkpoints read without executing their pickle: a zip
 * central-directory reader over the mapped file ({@code ZipArchive}), a restricted pickle VM whose
 * allow-list only knows state-dict vocabulary ({@code RestrictedUnpickler}, {@code AllowedGlobal}),
 * the legacy pre-1.6 stream, and {@link dev.ckpt.formats.torch.TorchBinFile}, the
 * {@link dev.ckpt.formats.TensorFile} over all of it. {@link dev.ckpt.formats.torch.TorchSaveWriter}
 * writes the same byte layout for fixtures and benchmarks.
 */
package dev.ckpt.formats.torch;

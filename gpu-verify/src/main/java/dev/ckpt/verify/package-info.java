/**
 * Smoke inference of full checkpoints through DJL's PyTorch engine: {@link dev.ckpt.verify.Verify}
 * is the entry point (options in, {@link dev.ckpt.verify.SmokeReport} out); {@link
 * dev.ckpt.verify.LlamaDecoder}, {@link dev.ckpt.verify.ClipVisionTower} and {@link
 * dev.ckpt.verify.Projector} are the model families; {@link dev.ckpt.verify.WeightStore} moves
 * mapped weights into engine memory; tokenizers and report formats complete the pass.
 */
package dev.ckpt.verify;

/**
 * Streaming f32 kernels shared by the plan-and-write operations. merge-lora:
 * {@link dev.ckpt.tools.ops.kernel.Rows} (row-block readers over tensor views),
 * {@link dev.ckpt.tools.ops.kernel.MergeKernel} and {@link dev.ckpt.tools.ops.kernel.LowRank} (LoRA / DoRA
 * updates), and the sinks that round once into the output dtype; heap per call is a few
 * {@link dev.ckpt.tools.ops.kernel.RowBlocks}, never a whole tensor. apply-delta and make-delta:
 * {@link dev.ckpt.tools.ops.kernel.DeltaRecipe} (byte ranges of delta ± base with the top-left block
 * rule, positional reads, nothing mapped) over {@link dev.ckpt.tools.ops.kernel.DeltaKernel} (the
 * vectorisable bf16 kernel and the f32 one).
 */
package dev.ckpt.tools.ops.kernel;

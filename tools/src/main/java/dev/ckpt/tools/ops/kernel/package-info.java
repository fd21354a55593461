/**
 * Streaming f32 kernels shared by the plan-and-write operations: {@link dev.ckpt.tools.ops.kernel.Rows}
 * (row-block readers over tensor views), {@link dev.ckpt.tools.ops.kernel.DeltaKernel} (delta ± base with
 * the top-left block rule), {@link dev.ckpt.tools.ops.kernel.MergeKernel} and
 * {@link dev.ckpt.tools.ops.kernel.LowRank} (LoRA / DoRA updates), and the sinks that round once into the
 * output dtype. Heap per call is a few {@link dev.ckpt.tools.ops.kernel.RowBlocks}, never a whole tensor.
 */
package dev.ckpt.tools.ops.kernel;

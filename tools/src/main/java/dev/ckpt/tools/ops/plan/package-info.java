/**
 * What an operation will write, decided before any tensor byte is read: {@link dev.ckpt.tools.ops.plan.OutputPlan}
 * (tensors with recipes, side files, per-tensor changes, diagnostics), the checks shared by delta and LoRA
 * operations ({@link dev.ckpt.tools.ops.plan.ConfigCheck}, {@link dev.ckpt.tools.ops.plan.TokenizerCheck}),
 * and {@link dev.ckpt.tools.ops.plan.PlanException} (exit code 3, nothing written).
 */
package dev.ckpt.tools.ops.plan;

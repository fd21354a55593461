/**
 * PEFT and LLaVA LoRA adapters: {@code adapter_config.json} ({@link dev.ckpt.tools.ops.lora.PeftConfig}), key
 * normalisation ({@link dev.ckpt.tools.ops.lora.AdapterKey}), {@code non_lora_trainables} renaming
 * ({@link dev.ckpt.tools.ops.lora.LlavaTrainables}) and merge planning ({@link dev.ckpt.tools.ops.lora.LoraPlanner};
 * algorithms.md section 2).
 */
package dev.ckpt.tools.ops.lora;

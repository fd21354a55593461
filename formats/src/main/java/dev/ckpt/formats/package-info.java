/** The tensor model (DType, Shape, TensorInfo, zero-copy TensorViews), Checkpoint (the read side of every operation) and CheckpointWriter (sharded safetensors output, atomic). Malformed input raises FormatException. */
package dev.ckpt.formats;

/** safetensors: validated header parsing, memory-mapped reading, deterministic layout and streaming writing. */
package dev.ckpt.formats.safetensors;

/** Deterministic random-weight checkpoints in real Hugging Face layouts, for the demo, benchmarks and tests. */
package dev.ckpt.formats.synthetic;

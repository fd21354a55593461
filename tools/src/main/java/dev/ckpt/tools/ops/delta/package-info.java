/** Planning of apply-delta and make-delta with LLaVA's and FastChat's rules (algorithms.md section 1). */
package dev.ckpt.tools.ops.delta;

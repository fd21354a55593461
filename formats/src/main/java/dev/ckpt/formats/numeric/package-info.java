/** Float conversions between F32, F16 and BF16, bit-exact with PyTorch's CPU rounding. */
package dev.ckpt.formats.numeric;

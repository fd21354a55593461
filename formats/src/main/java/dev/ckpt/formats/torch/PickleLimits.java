package dev.ckpt.formats.torch;

/**
 * Bounds the restricted unpickler enforces against hostile pickles. A real state dict of any
 * size stays far below each default; a pickle that crosses one is rejected with
 * {@code FormatException.Kind.LIMIT_EXCEEDED} before it can exhaust memory or the Java stack.
 *
 * @param maxStack values on the VM stack at once
 * @param maxMemo memo entries (indices at or above it are refused; CPython numbers them from 0)
 * @param maxDepth nesting depth of containers and of MARKs
 * @param maxWeight objects reachable from one container counting repeated references
 *                  (catches "billion laughs" structures built from memo references)
 * @param maxStringBytes bytes of one str or bytes value
 * @param maxRank dimensions of one tensor
 */
record PickleLimits(int maxStack, int maxMemo, int maxDepth, long maxWeight, int maxStringBytes, int maxRank) {
    static final PickleLimits DEFAULTS = new PickleLimits(1 << 20, 1 << 22, 64, 1L << 24, 16 << 20, 16);

    PickleLimits {
        if (maxStack <= 0 || maxMemo <= 0 || maxDepth <= 0 || maxWeight <= 0 || maxStringBytes <= 0 || maxRank <= 0) {
            throw new IllegalArgumentException("pickle limits must be positive");
        }
    }
}

package dev.ckpt.hub.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * SHA-256 through the system's OpenSSL {@code libcrypto} (EVP API) over the Java foreign-function API: it uses the
 * CPU's SHA extensions, several times faster than the JDK's digest on CPUs where the JDK does not. Only used when
 * the library loads; {@link #AVAILABLE} says so ({@code -Dckpt.hub.opensslSha=false} turns it off). Not thread-safe.
 */
final class OpenSslSha256 {
    /** True when libcrypto was found and the EVP functions resolved. */
    static final boolean AVAILABLE;
    private static final Cleaner CLEANER = Cleaner.create();
    private static MethodHandle evpSha256;
    private static MethodHandle ctxNew;
    private static MethodHandle ctxFree;
    private static MethodHandle init;
    private static MethodHandle update;
    private static MethodHandle finish;

    static {
        boolean ok = false;
        if (!"false".equals(System.getProperty("ckpt.hub.opensslSha"))) {
            for (String name : new String[] {"libcrypto.so.3", "libcrypto.so", "libcrypto.dylib"}) {
                try {
                    SymbolLookup lib = SymbolLookup.libraryLookup(name, Arena.global());
                    Linker l = Linker.nativeLinker();
                    ValueLayout.OfLong sizeT = ValueLayout.JAVA_LONG;
                    evpSha256 = l.downcallHandle(lib.findOrThrow("EVP_sha256"), FunctionDescriptor.of(ValueLayout.ADDRESS));
                    ctxNew = l.downcallHandle(lib.findOrThrow("EVP_MD_CTX_new"), FunctionDescriptor.of(ValueLayout.ADDRESS));
                    ctxFree = l.downcallHandle(lib.findOrThrow("EVP_MD_CTX_free"), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
                    init = l.downcallHandle(lib.findOrThrow("EVP_DigestInit_ex"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                    update = l.downcallHandle(lib.findOrThrow("EVP_DigestUpdate"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.ADDRESS, sizeT), Linker.Option.critical(true));
                    finish = l.downcallHandle(lib.findOrThrow("EVP_DigestFinal_ex"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                    ok = selfTest();
                    break;
                } catch (IllegalArgumentException | IllegalCallerException | UnsupportedOperationException
                         | java.util.NoSuchElementException e) {
                    ok = false; // not this name / no native access: try the next, else use the JDK digest
                }
            }
        }
        AVAILABLE = ok;
    }

    private final MemorySegment ctx;
    private final Cleaner.Cleanable cleanable;

    OpenSslSha256() {
        try {
            MemorySegment c = (MemorySegment) ctxNew.invokeExact();
            if (c.equals(MemorySegment.NULL) || (int) init.invokeExact(c, (MemorySegment) evpSha256.invokeExact(),
                    MemorySegment.NULL) != 1) {
                throw new IllegalStateException("EVP_DigestInit_ex failed");
            }
            this.ctx = c;
            this.cleanable = CLEANER.register(this, () -> free(c));
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** Hashes the remaining bytes of {@code b} (direct or heap) and consumes them. */
    void update(ByteBuffer b) {
        MemorySegment seg = MemorySegment.ofBuffer(b);
        call(seg, seg.byteSize());
        b.position(b.limit());
    }

    void update(byte[] b, int off, int len) {
        call(MemorySegment.ofArray(b).asSlice(off, len), len);
    }

    private void call(MemorySegment seg, long len) {
        try {
            if ((int) update.invokeExact(ctx, seg, len) != 1) {
                throw new IllegalStateException("EVP_DigestUpdate failed");
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** Lower-case hex digest; frees the native context. */
    String hex() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(32);
            if ((int) finish.invokeExact(ctx, out, MemorySegment.NULL) != 1) {
                throw new IllegalStateException("EVP_DigestFinal_ex failed");
            }
            return HexFormat.of().formatHex(out.toArray(ValueLayout.JAVA_BYTE));
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        } finally {
            cleanable.clean();
        }
    }

    private static void free(MemorySegment c) {
        try {
            ctxFree.invokeExact(c);
        } catch (Throwable ignored) {
            // freeing a digest context cannot meaningfully fail; nothing to report from a cleaner
        }
    }

    private static boolean selfTest() {
        try {
            OpenSslSha256 h = new OpenSslSha256();
            h.update("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, 3);
            return h.hex().equals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        } catch (RuntimeException e) {
            return false;
        }
    }
}

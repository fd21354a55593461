package dev.ckpt.tools.quant;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A binding (Java FFM, no native code of ours) to {@code llama_model_quantize} of a llama.cpp
 * {@code libllama} — the reference that ckpt's quantizer is tested and benchmarked against (the npm
 * package node-llama-cpp ships one). The parameter struct follows that release's {@code llama.h}
 * ({@code llama_model_quantize_params}, 64 bytes on x86-64). Needs {@code --enable-native-access}.
 */
public final class LlamaCppQuantizer implements AutoCloseable {
    private static final StructLayout PARAMS = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("nthread"), ValueLayout.JAVA_INT.withName("ftype"),
            ValueLayout.JAVA_INT.withName("output_tensor_type"), ValueLayout.JAVA_INT.withName("token_embedding_type"),
            ValueLayout.JAVA_BOOLEAN.withName("allow_requantize"), ValueLayout.JAVA_BOOLEAN.withName("quantize_output_tensor"),
            ValueLayout.JAVA_BOOLEAN.withName("only_copy"), ValueLayout.JAVA_BOOLEAN.withName("pure"),
            ValueLayout.JAVA_BOOLEAN.withName("keep_split"), ValueLayout.JAVA_BOOLEAN.withName("dry_run"),
            MemoryLayout.paddingLayout(2),
            ValueLayout.ADDRESS.withName("imatrix"), ValueLayout.ADDRESS.withName("kv_overrides"),
            ValueLayout.ADDRESS.withName("tt_overrides"), ValueLayout.ADDRESS.withName("prune_layers"),
            ValueLayout.JAVA_LONG.withName("max_buf_size"));
    private static final long NTHREAD = 0;
    private static final long FTYPE = 4;
    private static final long PURE = 19;

    private final Arena arena = Arena.ofShared();
    private final MethodHandle defaults;
    private final MethodHandle quantize;

    /** Loads {@code libllama} (the file, e.g. {@code libllama.v0.5.0.so}, or a directory holding one). */
    public LlamaCppQuantizer(Path library) throws IOException {
        Path lib = library;
        if (Files.isDirectory(library)) {
            try (var s = Files.list(library)) {
                lib = s.filter(p -> p.getFileName().toString().matches("libllama(\\..*)?\\.so(\\..*)?")).findFirst()
                        .orElseThrow(() -> new IOException("no libllama*.so in " + library));
            }
        }
        SymbolLookup l = SymbolLookup.libraryLookup(lib, arena);
        Linker linker = Linker.nativeLinker();
        defaults = linker.downcallHandle(l.find("llama_model_quantize_default_params").orElseThrow(),
                FunctionDescriptor.of(PARAMS));
        quantize = linker.downcallHandle(l.find("llama_model_quantize").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    }

    /**
     * Quantizes {@code in} to {@code out} as {@code llama-quantize} would (no imatrix).
     *
     * @throws IOException when llama.cpp reports failure
     */
    public void quantize(Path in, Path out, QuantType type, int threads) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) defaults.invokeExact((SegmentAllocator) a);
            p.set(ValueLayout.JAVA_INT, NTHREAD, threads);
            p.set(ValueLayout.JAVA_INT, FTYPE, type.ftype());
            p.set(ValueLayout.JAVA_BOOLEAN, PURE, type.pure());
            int rc = (int) quantize.invokeExact(a.allocateFrom(in.toString()), a.allocateFrom(out.toString()), p);
            if (rc != 0) {
                throw new IOException("llama_model_quantize failed (" + rc + ") for " + in);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}

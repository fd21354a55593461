package dev.ckpt.verify;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * Where and in which dtype the model runs. {@code --device auto} takes GPU 0 when the engine's
 * native library sees a CUDA device, else the CPU. The compute dtype is F32 for F32 and BF16
 * weights (BF16 is widened; the engine cannot run it) and for F16 weights on a CPU with room for
 * the widened copy; F16 weights stay F16 on a GPU, and on a CPU too small for an F32 copy F16 and
 * BF16 weights are computed in F16 (BF16 narrowed in Java, range-checked by {@link WeightStore}).
 */
record DevicePlan(Device device, DataType computeType) {

    /**
     * @param deviceSpec {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}
     * @param dtypeSpec {@code auto}, {@code f32} or {@code f16}
     * @throws IllegalArgumentException on a malformed spec or a GPU the engine does not see
     */
    static DevicePlan choose(String deviceSpec, String dtypeSpec, List<TensorInfo> tensors) {
        Device device = device(deviceSpec);
        DataType compute = switch (dtypeSpec) {
            case "f32", "float32" -> DataType.FLOAT32;
            case "f16", "float16" -> DataType.FLOAT16;
            case "auto" -> autoType(device, tensors);
            default -> throw new IllegalArgumentException("--dtype must be auto, f32 or f16, not '" + dtypeSpec + "'");
        };
        return new DevicePlan(device, compute);
    }

    static Device device(String spec) {
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        if (spec.equals("auto")) {
            return gpus > 0 ? Device.gpu(0) : Device.cpu();
        }
        if (spec.equals("cpu")) {
            return Device.cpu();
        }
        if (spec.equals("gpu") || spec.startsWith("gpu:")) {
            int id;
            try {
                id = spec.equals("gpu") ? 0 : Integer.parseInt(spec.substring(4));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--device gpu:N needs a number, not '" + spec + "'");
            }
            if (id >= gpus) {
                throw new IllegalArgumentException("--device " + spec + ": the PyTorch engine sees " + gpus
                        + " GPU(s); supply a CUDA libtorch (PYTORCH_LIBRARY_PATH + PYTORCH_FLAVOR, or a pytorch-native-cu* jar; see docs/verify.md)");
            }
            return Device.gpu(id);
        }
        throw new IllegalArgumentException("--device must be auto, cpu, gpu or gpu:N, not '" + spec + "'");
    }

    private static DataType autoType(Device device, List<TensorInfo> tensors) {
        long half = 0;
        long bf16 = 0;
        long all = 0;
        for (TensorInfo t : tensors) {
            if (t.dtype().isComputeFloat()) {
                all += t.elementCount();
                half += t.dtype() == DType.F16 ? t.elementCount() : 0;
                bf16 += t.dtype() == DType.BF16 ? t.elementCount() : 0;
            }
        }
        if (half + bf16 == 0) {
            return DataType.FLOAT32; // F32 weights alias the mapped file on the CPU: no copy to fit
        }
        if (device.isGpu()) {
            return bf16 > 0 ? DataType.FLOAT32 : DataType.FLOAT16;
        }
        return 4 * all <= physicalMemoryBytes() / 2 ? DataType.FLOAT32 : DataType.FLOAT16;
    }

    static long physicalMemoryBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Long.MAX_VALUE;
    }
}

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
 * the widened copy; F16 weights stay F16 on a GPU, or on a CPU too small for F32.
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
        long f16 = 0;
        long other = 0;
        for (TensorInfo t : tensors) {
            if (t.dtype() == DType.F16) {
                f16 += t.elementCount();
            } else if (t.dtype().isComputeFloat()) {
                other += t.elementCount();
            }
        }
        if (f16 == 0 || other > f16) {
            return DataType.FLOAT32;
        }
        if (device.isGpu()) {
            return DataType.FLOAT16;
        }
        long f32Bytes = 4 * (f16 + other);
        return f32Bytes <= physicalMemoryBytes() / 2 ? DataType.FLOAT32 : DataType.FLOAT16;
    }

    static long physicalMemoryBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Long.MAX_VALUE;
    }
}

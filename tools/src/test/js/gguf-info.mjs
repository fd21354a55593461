// Parses a GGUF with @huggingface/gguf and prints its metadata keys and tensor infos as one JSON line.
// Usage: node gguf-info.mjs FILE.gguf
import {gguf} from "@huggingface/gguf";

const file = process.argv[2];
const {metadata, tensorInfos, tensorDataOffset} = await gguf(file, {allowLocalFile: true});
const keys = Object.keys(metadata).filter(k => k !== "version" && k !== "tensor_count" && k !== "kv_count");
const plain = {};
for (const k of keys) {
    const v = metadata[k];
    plain[k] = Array.isArray(v) ? {length: v.length, first: v.length ? String(v[0]) : null} : String(v);
}
console.log(JSON.stringify({
    version: Number(metadata.version), keys, metadata: plain, tensorDataOffset: Number(tensorDataOffset),
    tensors: tensorInfos.map(t => ({name: t.name, shape: t.shape.map(Number), dtype: t.dtype, offset: Number(t.offset)})),
}));

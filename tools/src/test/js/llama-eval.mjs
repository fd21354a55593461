// Loads a GGUF with llama.cpp (node-llama-cpp, CPU prebuilt, no downloads) and prints, as one JSON
// line: the vocabulary size, the greedy continuation of the given token ids and the next-token
// log-probabilities after the prompt. Usage: node llama-eval.mjs MODEL.gguf ID,ID,... [STEPS]
import {getLlama} from "node-llama-cpp";

const [model, idsArg, stepsArg] = process.argv.slice(2);
const ids = idsArg.split(",").map(Number);
const steps = Number(stepsArg ?? 4);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error", progressLogs: false});
const m = await llama.loadModel({modelPath: model, gpuLayers: 0});
const ctx = await m.createContext({contextSize: 64, batchSize: 64, flashAttention: false, threads: 1,
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
const seq = ctx.getSequence();
const greedy = [];
let probs = null;
const it = seq.evaluateWithMetadata(ids, {probabilities: true}, {temperature: 0});
for await (const r of it) {
    if (probs === null) probs = Array.from(r.probabilities.entries());
    greedy.push(r.token);
    if (greedy.length >= steps) break;
}
const logp = {};
for (const [tok, p] of probs) logp[tok] = Math.log(p);
console.log(JSON.stringify({vocab: m.tokens.length ?? null, tokenize: Array.from(m.tokenize("hello world")), greedy, logp}));
await ctx.dispose();
await m.dispose();

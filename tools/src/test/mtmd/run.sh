#!/usr/bin/env bash
# Manual check (not part of ./test.sh: it compiles llama.cpp's mtmd, minutes on 2 cores): ckpt's LLaVA mmproj
# is loaded by llama.cpp's own clip/mtmd code and its image embeddings match an independent numpy forward.
# Needs: g++, python3 + numpy, the npm peers (src/test/js/install.sh), tools test classes (mvn -pl tools -am test-compile).
# Usage (from the repository root): tools/src/test/mtmd/run.sh [WORKDIR]
set -euo pipefail
ROOT=$(pwd); . "$ROOT/scripts/java-home.sh"; W=${1:-/tmp/ckpt-mtmd-check}; HERE=$ROOT/tools/src/test/mtmd
LIB=$ROOT/tools/src/test/js/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
BUNDLE=$ROOT/tools/src/test/js/node_modules/node-llama-cpp/llama/gitRelease.bundle
mkdir -p "$W/obj"; cd "$W"
[ -d src ] || git clone -q "$BUNDLE" src
M=src/tools/mtmd; INC="-Isrc/include -Isrc/ggml/include -I$M -Isrc/vendor"
for f in $M/clip.cpp $M/mtmd.cpp $M/mtmd-audio.cpp $M/mtmd-image.cpp $M/models/*.cpp; do echo "$f"; done |
    xargs -P "$(nproc)" -I{} sh -c 'o=obj/$(basename {} .cpp).o; [ -f $o ] || g++ -std=c++17 -O1 -fPIC -w '"$INC"' -c {} -o $o'
g++ -std=c++17 -O1 -w $INC "$HERE/probe.cpp" obj/*.o -o probe -L"$LIB" -l:libllama.v0.5.0.so -l:libggml.v0.5.0.so \
    -l:libggml-base.so -lpthread -Wl,-rpath,"$LIB"
CP="$ROOT/gpu-verify/target/test-classes:$ROOT/gpu-verify/target/classes:$ROOT/formats/target/classes:$(ls "$ROOT"/tools/target/lib/*.jar | tr '\n' ':')"
rm -rf llava && java -cp "$CP" "$HERE/Gen.java" llava >/dev/null
python3 -c "import random; random.seed(3); open('img.rgb','wb').write(bytes(random.randrange(256) for _ in range(432)))"
for t in f32 f16; do
    (cd "$ROOT" && ./ckpt convert "$W/llava" --to gguf --type $t --out "$W/tiny-$t.gguf" --force >/dev/null)
    GGML_LIB_DIR=$LIB ./probe tiny-$t.gguf tiny-$t.mmproj.gguf img.rgb 12 12 > out-$t.json 2> probe-$t.log
    echo "$t HF order (class first):   $(python3 "$HERE/ref.py" llava img.rgb 12 12 out-$t.json)"
    r=$(python3 "$HERE/ref.py" llava img.rgb 12 12 out-$t.json --cls-last --max-rel 0.01)  # set -e stops here above 1%
    echo "$t llama.cpp order (last):   $r"
done
echo "ok: llama.cpp mtmd loads ckpt's mmproj; embeddings within 1% of the numpy forward (llama.cpp's class-token order)"

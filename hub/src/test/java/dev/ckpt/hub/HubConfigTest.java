package dev.ckpt.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.hub.internal.Glob;
import dev.ckpt.hub.internal.Urls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Environment resolution, repo ids, fnmatch filters and URL quoting as huggingface_hub does them. */
class HubConfigTest {
    @TempDir
    Path tmp;

    @Test
    void resolvesEndpointTokenCacheAndOfflineLikeHuggingfaceHub() throws Exception {
        Files.writeString(tmp.resolve("token"), "  hf_fromfile\r\n");
        HubConfig c = HubConfig.resolve(Map.of("HF_HOME", tmp.toString(), "HF_ENDPOINT", "http://mirror:8080/"), null, null, false);
        assertThat(c.endpoint()).isEqualTo("http://mirror:8080");
        assertThat(c.token()).isEqualTo("hf_fromfile");
        assertThat(c.cacheDir()).isEqualTo(tmp.resolve("hub"));
        assertThat(c.offline()).isFalse();
        assertThat(c.toString()).doesNotContain("hf_fromfile");

        HubConfig env = HubConfig.resolve(Map.of("HF_HOME", tmp.toString(), "HF_TOKEN", "hf_env", "HF_HUB_CACHE", "/x/cache",
                "HF_HUB_OFFLINE", "yes"), null, null, false);
        assertThat(env.token()).isEqualTo("hf_env");
        assertThat(env.cacheDir()).isEqualTo(Path.of("/x/cache"));
        assertThat(env.offline()).isTrue();
        assertThat(env.endpoint()).isEqualTo("https://huggingface.co");

        HubConfig explicit = HubConfig.resolve(Map.of("HF_TOKEN", "hf_env", "HF_HOME", tmp.toString()), "hf_cli", tmp.resolve("c"), true);
        assertThat(explicit.token()).isEqualTo("hf_cli");
        assertThat(HubConfig.resolve(Map.of("HF_TOKEN", "hf_env", "HF_HOME", tmp.toString(),
                "HF_HUB_DISABLE_IMPLICIT_TOKEN", "1"), null, null, false).token()).isNull();
    }

    @Test
    void repoIdsAndFolderNames() {
        RepoId.WithRevision r = RepoId.WithRevision.parse("liuhaotian/llava-v1.5-7b@refs/pr/1", RepoType.MODEL);
        assertThat(r.repo().folderName()).isEqualTo("models--liuhaotian--llava-v1.5-7b");
        assertThat(r.revision()).isEqualTo("refs/pr/1");
        assertThat(new RepoId(RepoType.DATASET, "org/data").folderName()).isEqualTo("datasets--org--data");
        for (String bad : List.of("a--b/c", "a/b/c", "../x", "x.git", "a b/c", "")) {
            assertThatThrownBy(() -> RepoId.model(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> HubCache.safeRelative("../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HubCache.safeRelative("/abs")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HubCache.safeRelative("C:\\x")).isInstanceOf(IllegalArgumentException.class);
        assertThat(Urls.quote("refs/pr/1", "")).isEqualTo("refs%2Fpr%2F1");
        assertThat(Urls.quote("a b/é.json", "/")).isEqualTo("a%20b/%C3%A9.json");
        assertThat(Urls.printable("https://cdn/x?X-Amz-Signature=s")).isEqualTo("https://cdn/x");
    }

    @Test
    void fnmatchSemantics() {
        assertThat(Glob.matches("*.json", "tokenizer/vocab.json")).isTrue(); // '*' crosses '/'
        assertThat(Glob.matches("*.JSON", "a.json")).isFalse();
        assertThat(Glob.matches("onnx/", "onnx/model.onnx")).isTrue();
        assertThat(Glob.matches("model-0000[1-2]-*", "model-00002-of-00003.safetensors")).isTrue();
        assertThat(Glob.matches("model-0000[!1]*", "model-00001-of-00003.safetensors")).isFalse();
        assertThat(Glob.keep("a.bin", List.of("*.safetensors"), List.of())).isFalse();
        assertThat(Glob.keep("a.safetensors", List.of(), List.of("*.safetensors"))).isFalse();
    }
}

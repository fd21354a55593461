package dev.ckpt.hub.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import okhttp3.Response;

/** A {@link BodyResponse} over an OkHttp response (https and anything {@link PlainHttp} does not take). */
public final class OkBodyResponse implements BodyResponse {
    private final Response response;

    public OkBodyResponse(Response response) {
        this.response = response;
    }

    @Override
    public int code() {
        return response.code();
    }

    @Override
    public String header(String name) {
        return response.header(name);
    }

    @Override
    public String url() {
        return response.request().url().toString();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return response.body().source().read(dst);
    }

    @Override
    public void close() {
        response.close();
    }
}

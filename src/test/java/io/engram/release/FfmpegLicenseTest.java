package io.engram.release;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avformat;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.ffmpeg.global.swscale;
import org.junit.jupiter.api.Test;

/** The bundled FFmpeg libraries say, themselves, that they are the LGPL build (THIRD-PARTY.md). */
class FfmpegLicenseTest {
    static final String LGPL = "LGPL version 3 or later";

    @Test
    void everyBundledFfmpegLibraryIsUnderTheLgpl() {
        assertEquals(LGPL, avutil.avutil_license().getString(), "libavutil");
        assertEquals(LGPL, avcodec.avcodec_license().getString(), "libavcodec");
        assertEquals(LGPL, avformat.avformat_license().getString(), "libavformat");
        assertEquals(LGPL, swscale.swscale_license().getString(), "libswscale");
    }
}

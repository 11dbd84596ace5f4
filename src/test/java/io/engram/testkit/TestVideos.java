package io.engram.testkit;

import java.nio.file.Path;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Java2DFrameConverter;

/** Writes small test videos with FFmpeg (the LGPL build: mpeg4, not libx264). */
public final class TestVideos {
    private TestVideos() {}

    /** {@code frames} frames of a white square moving right on black, {@code w x h}, at {@code fps}, mpeg4 in mp4. */
    public static Path movingSquareMp4(Path file, int w, int h, int frames, double fps) throws Exception {
        avutil.av_log_set_level(avutil.AV_LOG_ERROR);
        try (FFmpegFrameRecorder r = new FFmpegFrameRecorder(file.toFile(), w, h, 0);
                Java2DFrameConverter c = new Java2DFrameConverter()) {
            r.setFormat("mp4");
            r.setVideoCodecName("mpeg4");
            r.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            r.setFrameRate(fps);
            r.setVideoQuality(2); // high quality (low qscale): the square stays sharp
            r.start();
            for (int i = 0; i < frames; i++) {
                r.record(c.convert(TestImages.square(w, h, (i * 2) % (w - 10), h / 4, 10)));
            }
            r.stop();
        }
        return file;
    }
}

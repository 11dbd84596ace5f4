import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.Java2DFrameConverter;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Cuts the demo's people clip from OpenCV's vtest.avi: the first N frames, scaled to W x H, as
 * MPEG-4 part 2 in an MP4 (an encoder of the LGPL FFmpeg build that Engram ships). Run by
 * make_sample.sh with target/engram.jar on the classpath:
 *
 *   java -cp target/engram.jar ingest/samples/people/CutSample.java IN OUT FRAMES WIDTH HEIGHT
 */
public class CutSample {
    public static void main(String[] a) throws Exception {
        String in = a[0], out = a[1];
        int frames = Integer.parseInt(a[2]), w = Integer.parseInt(a[3]), h = Integer.parseInt(a[4]);
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(in)) {
            g.start();
            double fps = g.getFrameRate();
            System.out.printf("%s: %dx%d, %.2f frames/s, %d frames%n", in, g.getImageWidth(), g.getImageHeight(), fps, g.getLengthInFrames());
            Java2DFrameConverter conv = new Java2DFrameConverter();
            try (FFmpegFrameRecorder r = new FFmpegFrameRecorder(out, w, h, 0)) {
                r.setFormat("mp4");
                r.setVideoCodec(avcodec.AV_CODEC_ID_MPEG4);
                r.setFrameRate(fps);
                r.setVideoQuality(4); // qscale: 2 (best) .. 31
                r.setPixelFormat(org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P);
                r.setMetadata("comment", "cut from OpenCV samples/data/vtest.avi (Apache-2.0 AND BSD-3-Clause); see README.md");
                r.start();
                int n = 0;
                Frame f;
                while (n < frames && (f = g.grabImage()) != null) {
                    BufferedImage src = conv.convert(f);
                    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
                    Graphics2D gr = dst.createGraphics();
                    gr.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                    gr.drawImage(src, 0, 0, w, h, null);
                    gr.dispose();
                    r.record(new Java2DFrameConverter().convert(dst));
                    n++;
                }
                r.stop();
                System.out.printf("%s: %d frames, %dx%d%n", out, n, w, h);
            }
        }
    }
}

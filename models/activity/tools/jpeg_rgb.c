/*
 * jpeg_rgb: the smallest libjpeg(-turbo) front end that make_camera_golden.py needs.
 *
 *   jpeg_rgb enc WIDTH HEIGHT QUALITY in.rgb out.jpg   raw RGB (8-bit, row-major) -> baseline JPEG,
 *                                                       libjpeg defaults: YCbCr, 4:2:0, JDCT_ISLOW
 *   jpeg_rgb dec in.jpg out.rgb                        JPEG -> raw RGB; prints "WIDTH HEIGHT" on stdout.
 *                                                       libjpeg defaults: JDCT_ISLOW, fancy upsampling,
 *                                                       out_color_space JCS_RGB: what Java's ImageIO JPEG
 *                                                       reader asks of the same system library (Debian's
 *                                                       OpenJDK links libjavajpeg against libjpeg.so.62).
 *
 * Build: gcc -O2 -o jpeg_rgb jpeg_rgb.c -ljpeg   (the script does this in a temporary directory)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

static unsigned char *read_all(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*len > 0 ? *len : 1);
    if (fread(buf, 1, *len, f) != (size_t) *len) { perror(path); exit(2); }
    fclose(f);
    return buf;
}

static int enc(int w, int h, int quality, const char *in, const char *out) {
    long len;
    unsigned char *rgb = read_all(in, &len);
    if (len != (long) w * h * 3) { fprintf(stderr, "%s: %ld bytes, expected %d\n", in, len, w * h * 3); return 2; }
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    FILE *f = fopen(out, "wb");
    if (!f) { perror(out); return 2; }
    jpeg_stdio_dest(&c, f);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);               /* YCbCr, Y 2x2 + Cb/Cr 1x1 = 4:2:0, JDCT_ISLOW, JFIF header */
    jpeg_set_quality(&c, quality, TRUE);
    if (c.comp_info[0].h_samp_factor != 2 || c.comp_info[0].v_samp_factor != 2) {
        fprintf(stderr, "unexpected default sampling\n");
        return 3;
    }
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = rgb + (size_t) c.next_scanline * w * 3;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    free(rgb);
    return 0;
}

static int dec(const char *in, const char *out) {
    long len;
    unsigned char *jpg = read_all(in, &len);
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr err;
    d.err = jpeg_std_error(&err);
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, jpg, (unsigned long) len);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_RGB;
    if (d.dct_method != JDCT_ISLOW || !d.do_fancy_upsampling) {
        fprintf(stderr, "unexpected decoder defaults\n");
        return 3;
    }
    jpeg_start_decompress(&d);
    if (d.output_components != 3) { fprintf(stderr, "not 3 components\n"); return 3; }
    size_t stride = (size_t) d.output_width * 3;
    unsigned char *rgb = malloc(stride * d.output_height);
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = rgb + (size_t) d.output_scanline * stride;
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    FILE *f = fopen(out, "wb");
    if (!f) { perror(out); return 2; }
    fwrite(rgb, 1, stride * d.output_height, f);
    fclose(f);
    printf("%u %u\n", d.output_width, d.output_height);
    jpeg_destroy_decompress(&d);
    free(rgb);
    free(jpg);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 7 && strcmp(argv[1], "enc") == 0) {
        return enc(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv[5], argv[6]);
    }
    if (argc == 4 && strcmp(argv[1], "dec") == 0) {
        return dec(argv[2], argv[3]);
    }
    fprintf(stderr, "usage: jpeg_rgb enc W H QUALITY in.rgb out.jpg | jpeg_rgb dec in.jpg out.rgb\n");
    return 1;
}

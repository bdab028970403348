/*
 * motion_video.c — runs the motion detector over raw GRAY8 frames from stdin.
 *
 * A validation tool, not a test: it prints the boxes so that a person can compare them
 * with the video. Feed it with ffmpeg:
 *
 *   ffmpeg -v error -i VIDEO -f rawvideo -pix_fmt gray - \
 *     | motion_video 768 432 12.5 [options]
 *
 * Output on stdout, one line per frame: the 1-based frame number, the number of objects,
 * then each box as left,top,width,height in input pixels, largest first. A summary with
 * the frame count and the time spent in dsx_motion_process goes to stderr.
 *
 * Options:
 *   --threshold N, --min-area N, --morph-radius N, --absorb-seconds S,
 *   --adapt-seconds S   detector parameters (dsx_detector_params; 0 = default)
 *   --dump DIR          write frames listed by --frames as PGM files with the boxes drawn
 *   --frames A,B,...    1-based frame numbers for --dump
 *
 * Single-threaded; reads stdin until end of file. A truncated last frame is reported
 * and ignored.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motion.h"

#define MAX_BOXES 64u
#define MAX_DUMP_FRAMES 256u

typedef struct {
  uint32_t width, height;
  double fps;
  dsx_detector_params params;
  const char *dump_dir;
  uint64_t dump_frames[MAX_DUMP_FRAMES];
  uint32_t dump_count;
} options;

static void print_usage(FILE *out) {
  fprintf(out,
          "usage: motion_video WIDTH HEIGHT FPS [--threshold N] [--min-area N]\n"
          "         [--morph-radius N] [--absorb-seconds S] [--adapt-seconds S]\n"
          "         [--dump DIR --frames A,B,...] < frames.gray\n");
}

static int parse_u32(const char *text, const char *name, uint32_t *value) {
  char *end = NULL;
  errno = 0;
  unsigned long parsed = strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || parsed > UINT32_MAX) {
    fprintf(stderr, "motion_video: invalid %s '%s': expected a non-negative integer\n", name,
            text);
    return -1;
  }
  *value = (uint32_t)parsed;
  return 0;
}

static int parse_double(const char *text, const char *name, double *value) {
  char *end = NULL;
  errno = 0;
  double parsed = strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(parsed >= 0.0)) {
    fprintf(stderr, "motion_video: invalid %s '%s': expected a non-negative number\n", name,
            text);
    return -1;
  }
  *value = parsed;
  return 0;
}

static int parse_frame_list(char *text, options *opts) {
  for (char *item = strtok(text, ","); item != NULL; item = strtok(NULL, ",")) {
    uint32_t frame = 0;
    if (parse_u32(item, "--frames entry", &frame) != 0) return -1;
    if (opts->dump_count == MAX_DUMP_FRAMES) {
      fprintf(stderr, "motion_video: --frames lists more than %u frames; list fewer\n",
              MAX_DUMP_FRAMES);
      return -1;
    }
    opts->dump_frames[opts->dump_count++] = frame;
  }
  return 0;
}

static int parse_options(int argc, char **argv, options *opts) {
  memset(opts, 0, sizeof *opts);
  opts->params.size = sizeof opts->params;
  if (argc < 4) {
    print_usage(stderr);
    return -1;
  }
  if (parse_u32(argv[1], "WIDTH", &opts->width) != 0) return -1;
  if (parse_u32(argv[2], "HEIGHT", &opts->height) != 0) return -1;
  if (parse_double(argv[3], "FPS", &opts->fps) != 0) return -1;

  for (int i = 4; i < argc; i++) {
    const char *name = argv[i];
    if (i + 1 >= argc) {
      fprintf(stderr, "motion_video: option %s needs a value\n", name);
      return -1;
    }
    char *value = argv[++i];
    double seconds = 0.0;
    int rc = 0;
    if (strcmp(name, "--threshold") == 0) {
      rc = parse_u32(value, name, &opts->params.threshold);
    } else if (strcmp(name, "--min-area") == 0) {
      rc = parse_u32(value, name, &opts->params.min_area);
    } else if (strcmp(name, "--morph-radius") == 0) {
      rc = parse_u32(value, name, &opts->params.morph_radius);
    } else if (strcmp(name, "--absorb-seconds") == 0) {
      rc = parse_double(value, name, &seconds);
      opts->params.absorb_seconds = (float)seconds;
    } else if (strcmp(name, "--adapt-seconds") == 0) {
      rc = parse_double(value, name, &seconds);
      opts->params.adapt_seconds = (float)seconds;
    } else if (strcmp(name, "--dump") == 0) {
      opts->dump_dir = value;
    } else if (strcmp(name, "--frames") == 0) {
      rc = parse_frame_list(value, opts);
    } else {
      fprintf(stderr, "motion_video: unknown option %s\n", name);
      print_usage(stderr);
      return -1;
    }
    if (rc != 0) return -1;
  }
  return 0;
}

static int dump_requested(const options *opts, uint64_t frame) {
  for (uint32_t i = 0; i < opts->dump_count; i++) {
    if (opts->dump_frames[i] == frame) return 1;
  }
  return 0;
}

/* Draws a two-pixel outline, white outside and black inside, so it shows on any
 * background. */
static void draw_box(uint8_t *image, uint32_t width, uint32_t height, const dsx_box *box) {
  long box_left = (long)box->left, box_top = (long)box->top;
  long box_right = box_left + (long)box->width - 1;
  long box_bottom = box_top + (long)box->height - 1;
  for (long ring = 0; ring < 2; ring++) {
    uint8_t value = ring == 0 ? 255 : 0;
    long left = box_left + ring, top = box_top + ring;
    long right = box_right - ring, bottom = box_bottom - ring;
    if (left > right || top > bottom) break;
    for (long x = left; x <= right; x++) {
      if (x < 0 || x >= (long)width) continue;
      if (top >= 0 && top < (long)height) image[(size_t)top * width + (size_t)x] = value;
      if (bottom >= 0 && bottom < (long)height) image[(size_t)bottom * width + (size_t)x] = value;
    }
    for (long y = top; y <= bottom; y++) {
      if (y < 0 || y >= (long)height) continue;
      if (left >= 0 && left < (long)width) image[(size_t)y * width + (size_t)left] = value;
      if (right >= 0 && right < (long)width) image[(size_t)y * width + (size_t)right] = value;
    }
  }
}

static int write_dump(const options *opts, uint64_t frame_number, const uint8_t *frame,
                      uint8_t *canvas, const dsx_box *boxes, uint32_t box_count) {
  size_t bytes = (size_t)opts->width * opts->height;
  memcpy(canvas, frame, bytes);
  for (uint32_t i = 0; i < box_count; i++) draw_box(canvas, opts->width, opts->height, &boxes[i]);

  char path[4096];
  int length = snprintf(path, sizeof path, "%s/frame_%05llu.pgm", opts->dump_dir,
                        (unsigned long long)frame_number);
  if (length < 0 || (size_t)length >= sizeof path) {
    fprintf(stderr, "motion_video: --dump path too long: %s\n", opts->dump_dir);
    return -1;
  }

  FILE *file = fopen(path, "wb");
  if (file == NULL) {
    fprintf(stderr, "motion_video: failed to open %s: %s\n", path, strerror(errno));
    return -1;
  }
  int rc = 0;
  if (fprintf(file, "P5\n%u %u\n255\n", opts->width, opts->height) < 0 ||
      fwrite(canvas, 1, bytes, file) != bytes) {
    fprintf(stderr, "motion_video: failed to write %s: %s\n", path, strerror(errno));
    rc = -1;
  }
  if (fclose(file) != 0 && rc == 0) {
    fprintf(stderr, "motion_video: failed to close %s: %s\n", path, strerror(errno));
    rc = -1;
  }
  return rc;
}

static double seconds_between(const struct timespec *start, const struct timespec *end) {
  return (double)(end->tv_sec - start->tv_sec) + (double)(end->tv_nsec - start->tv_nsec) * 1e-9;
}

int main(int argc, char **argv) {
  options opts;
  if (parse_options(argc, argv, &opts) != 0) return 2;

  int status = 1;
  size_t frame_bytes = (size_t)opts.width * opts.height;
  uint8_t *frame = NULL;
  uint8_t *canvas = NULL;
  dsx_motion *motion = dsx_motion_new(opts.width, opts.height, opts.fps, &opts.params);
  if (motion == NULL) {
    fprintf(stderr,
            "motion_video: failed to create a detector for %ux%u: each side must be 1 to "
            "16384, or memory is exhausted\n",
            opts.width, opts.height);
    goto cleanup;
  }
  frame = malloc(frame_bytes);
  canvas = malloc(frame_bytes);
  if (frame == NULL || canvas == NULL) {
    fprintf(stderr, "motion_video: out of memory for %zu-byte frames\n", frame_bytes);
    goto cleanup;
  }

  dsx_box boxes[MAX_BOXES];
  uint64_t frame_number = 0;
  uint64_t frames_with_boxes = 0;
  uint64_t total_boxes = 0;
  double process_seconds = 0.0;

  for (;;) {
    size_t got = fread(frame, 1, frame_bytes, stdin);
    if (got == 0 && feof(stdin)) break;
    if (got != frame_bytes) {
      if (ferror(stdin)) {
        fprintf(stderr, "motion_video: failed to read stdin: %s\n", strerror(errno));
        goto cleanup;
      }
      fprintf(stderr, "motion_video: ignoring a truncated last frame of %zu bytes\n", got);
      break;
    }
    frame_number++;

    struct timespec start, end;
    if (clock_gettime(CLOCK_MONOTONIC, &start) != 0) {
      perror("motion_video: clock_gettime");
      goto cleanup;
    }
    uint32_t count = dsx_motion_process(motion, frame, opts.width, boxes, MAX_BOXES);
    if (clock_gettime(CLOCK_MONOTONIC, &end) != 0) {
      perror("motion_video: clock_gettime");
      goto cleanup;
    }
    process_seconds += seconds_between(&start, &end);

    uint32_t written = count < MAX_BOXES ? count : MAX_BOXES;
    if (count > 0) frames_with_boxes++;
    total_boxes += count;

    printf("%llu %u", (unsigned long long)frame_number, count);
    for (uint32_t i = 0; i < written; i++) {
      printf(" %.0f,%.0f,%.0f,%.0f", boxes[i].left, boxes[i].top, boxes[i].width,
             boxes[i].height);
    }
    printf("\n");

    if (opts.dump_dir != NULL && dump_requested(&opts, frame_number)) {
      if (write_dump(&opts, frame_number, frame, canvas, boxes, written) != 0) goto cleanup;
    }
  }

  if (fflush(stdout) != 0) {
    perror("motion_video: failed to write stdout");
    goto cleanup;
  }
  fprintf(stderr,
          "motion_video: %llu frames, %llu with boxes, %llu boxes; "
          "dsx_motion_process %.1f us per frame on average\n",
          (unsigned long long)frame_number, (unsigned long long)frames_with_boxes,
          (unsigned long long)total_boxes,
          frame_number > 0 ? process_seconds * 1e6 / (double)frame_number : 0.0);
  status = 0;

cleanup:
  free(canvas);
  free(frame);
  dsx_motion_free(motion);
  return status;
}

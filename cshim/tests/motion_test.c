/*
 * motion_test.c — checks the CPU motion detector on synthetic frames: moving objects,
 * exposure steps, an object that stands still, sensor noise, camera sway, clipped
 * highlights, the area filter, box order and the argument checks. No GStreamer.
 *
 * Every scene starts from a textured background, so that a detector that compared only
 * frame means, or ignored texture, would fail. Frames are deterministic (a fixed
 * pseudo-random generator), and no check depends on timing.
 *
 * Build and run (the lead's Makefile does the same with ASan and UBSan):
 *   gcc -std=c11 -O2 -Wall -Wextra -Werror -Icshim/include -Icshim/src \
 *     cshim/src/motion.c cshim/tests/motion_test.c -o /tmp/motion_test -lm
 *   /tmp/motion_test
 * Prints one line per failed check and "N passed, M failed" last; exits 1 on failure.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motion.h"

static int passed, failed;

#define CHECK(condition, ...)                                               \
  do {                                                                      \
    if (condition) {                                                        \
      passed++;                                                             \
    } else {                                                                \
      failed++;                                                             \
      fprintf(stderr, "%s:%d: %s: check failed: %s: ", __FILE__, __LINE__, \
              __func__, #condition);                                        \
      fprintf(stderr, __VA_ARGS__);                                         \
      fputc('\n', stderr);                                                  \
    }                                                                       \
  } while (0)

#define MAX_BOXES 16u

/* --------------------------------------------------------------------------------- */
/* Synthetic frames                                                                   */
/* --------------------------------------------------------------------------------- */

typedef struct {
  uint32_t width, height, stride;
  uint8_t *pixels;
} image;

typedef struct {
  int left, top, width, height;
} rect;

/* xorshift32: deterministic noise, the same on every platform. */
static uint32_t next_random(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

static image image_new(uint32_t width, uint32_t height, uint32_t stride) {
  image img = {width, height, stride, calloc((size_t)stride * height, 1)};
  if (img.pixels == NULL) {
    fprintf(stderr, "motion_test: out of memory for a %ux%u image\n", width, height);
    exit(2);
  }
  return img;
}

static void image_free(image *img) {
  free(img->pixels);
  img->pixels = NULL;
}

static uint8_t clamp_gray(double value) {
  if (value < 0.0) return 0;
  if (value > 255.0) return 255;
  return (uint8_t)lround(value);
}

/* Triangle wave from 0 to 1 and back over `period` pixels. */
static double triangle(int position, int period) {
  int phase = position % period;
  return fabs((double)phase - (double)period / 2.0) / ((double)period / 2.0);
}

/* Scene brightness of the textured floor at (x, y) before exposure: smooth gradients
 * between 70 and 170, plus a fixed per-pixel grain of +-6. */
static double texture(int x, int y) {
  uint32_t grain_state = (uint32_t)x * 73856093u ^ (uint32_t)y * 19349663u ^ 0x9e3779b9u;
  if (grain_state == 0) grain_state = 1;
  double grain = (double)(next_random(&grain_state) % 13) - 6.0;
  return 70.0 + 60.0 * triangle(x, 96) + 40.0 * triangle(y + 17, 64) + grain;
}

/* Draws the textured background as the camera sees it with `gain` and `offset`, shifted
 * by (shift_x, shift_y) pixels as by camera sway. */
static void draw_background(image *img, double gain, double offset, int shift_x, int shift_y) {
  for (uint32_t y = 0; y < img->height; y++) {
    for (uint32_t x = 0; x < img->width; x++) {
      double value = gain * texture((int)x + shift_x + 64, (int)y + shift_y + 64) + offset;
      img->pixels[(size_t)y * img->stride + x] = clamp_gray(value);
    }
  }
}

/* Draws the textured background with a 240x160 patch of vertical dark and light
 * stripes, 16 pixels wide, everything shifted by `shift` pixels: a high-contrast
 * pattern like painted markings, where camera sway moves many edges. */
static void draw_striped_scene(image *img, int shift) {
  draw_background(img, 1.0, 0.0, shift, 0);
  for (uint32_t y = 100; y < 260; y++) {
    for (uint32_t x = 200; x < 440; x++) {
      int band = (((int)x + shift + 480) / 16) % 2;
      img->pixels[(size_t)y * img->stride + x] = band ? 210 : 40;
    }
  }
}

static void fill_rect(image *img, rect r, uint8_t value) {
  for (int y = r.top; y < r.top + r.height; y++) {
    if (y < 0 || y >= (int)img->height) continue;
    for (int x = r.left; x < r.left + r.width; x++) {
      if (x < 0 || x >= (int)img->width) continue;
      img->pixels[(size_t)y * img->stride + (size_t)x] = value;
    }
  }
}

/* Adds uniform noise in [-amplitude, amplitude] to every pixel, like sensor noise. */
static void add_noise(image *img, int amplitude, uint32_t *state) {
  for (uint32_t y = 0; y < img->height; y++) {
    for (uint32_t x = 0; x < img->width; x++) {
      uint8_t *pixel = &img->pixels[(size_t)y * img->stride + x];
      int delta = (int)(next_random(state) % (uint32_t)(2 * amplitude + 1)) - amplitude;
      *pixel = clamp_gray((double)*pixel + delta);
    }
  }
}

/* --------------------------------------------------------------------------------- */
/* Helpers                                                                            */
/* --------------------------------------------------------------------------------- */

static dsx_detector_params default_params(void) {
  dsx_detector_params params;
  memset(&params, 0, sizeof params);
  params.size = sizeof params;
  return params;
}

static dsx_motion *new_detector(const image *img, double fps, const dsx_detector_params *params) {
  dsx_motion *motion = dsx_motion_new(img->width, img->height, fps, params);
  if (motion == NULL) {
    fprintf(stderr, "motion_test: dsx_motion_new(%u, %u) failed\n", img->width, img->height);
    exit(2);
  }
  return motion;
}

static uint32_t process(dsx_motion *motion, const image *img, dsx_box *boxes) {
  return dsx_motion_process(motion, img->pixels, img->stride, boxes, MAX_BOXES);
}

/* True when every edge of `box` lies within `tolerance` pixels of the edge of `truth`. */
static bool box_near(const dsx_box *box, rect truth, double tolerance) {
  double right = box->left + box->width, bottom = box->top + box->height;
  return fabs(box->left - truth.left) <= tolerance && fabs(box->top - truth.top) <= tolerance &&
         fabs(right - (truth.left + truth.width)) <= tolerance &&
         fabs(bottom - (truth.top + truth.height)) <= tolerance;
}

/* Tolerance of box edges: the detector works on 4x4-pixel cells, and morphology may
 * move an edge by one more cell. */
#define EDGE_TOLERANCE 8.0

/* --------------------------------------------------------------------------------- */
/* Moving objects                                                                     */
/* --------------------------------------------------------------------------------- */

/* Runs a rectangle of `value` across the textured background and checks that every
 * frame after the first yields exactly one box near it. */
static void check_moving_rectangle(uint8_t value, const char *name) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 12345;

  draw_background(&img, 1.0, 0.0, 0, 0);
  add_noise(&img, 4, &noise);
  uint32_t first = process(motion, &img, boxes);
  CHECK(first == 0, "%s: the first frame only initializes, got %u boxes", name, first);

  int bad_frames = 0, first_bad = -1;
  uint32_t bad_count = 0;
  dsx_box bad_box = {0, 0, 0, 0};
  for (int n = 0; n < 80; n++) {
    rect truth = {40 + 6 * n, 140, 48, 72};
    draw_background(&img, 1.0, 0.0, 0, 0);
    fill_rect(&img, truth, value);
    add_noise(&img, 4, &noise);
    uint32_t count = process(motion, &img, boxes);
    if (count != 1 || !box_near(&boxes[0], truth, EDGE_TOLERANCE)) {
      if (first_bad < 0) {
        first_bad = n;
        bad_count = count;
        if (count > 0) bad_box = boxes[0];
      }
      bad_frames++;
    }
  }
  CHECK(bad_frames == 0,
        "%s: %d of 80 frames without exactly one box near the rectangle; first: frame %d, "
        "%u boxes, box 0 = %.0f,%.0f %.0fx%.0f",
        name, bad_frames, first_bad, bad_count, bad_box.left, bad_box.top, bad_box.width,
        bad_box.height);

  dsx_motion_free(motion);
  image_free(&img);
}

static void test_moving_bright_rectangle(void) { check_moving_rectangle(235, "bright"); }

static void test_moving_dark_rectangle(void) { check_moving_rectangle(15, "dark"); }

/* A frame whose sides are not multiples of the cell size, with the object touching the
 * right and bottom edges: the box must cover the object up to the frame's edges. */
static void test_odd_size_object_at_edge(void) {
  image img = image_new(643, 363, 643);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);

  rect truth = {643 - 50, 363 - 70, 50, 70};
  draw_background(&img, 1.0, 0.0, 0, 0);
  fill_rect(&img, truth, 240);
  uint32_t count = process(motion, &img, boxes);

  CHECK(count == 1, "expected one box, got %u", count);
  if (count >= 1) {
    CHECK(box_near(&boxes[0], truth, EDGE_TOLERANCE), "box %.0f,%.0f %.0fx%.0f",
          boxes[0].left, boxes[0].top, boxes[0].width, boxes[0].height);
    /* The object covers the last, partial cells, so the box ends exactly at the edges. */
    CHECK(boxes[0].left + boxes[0].width == 643.0f, "box %.0f,%.0f %.0fx%.0f: right edge "
          "not at 643", boxes[0].left, boxes[0].top, boxes[0].width, boxes[0].height);
    CHECK(boxes[0].top + boxes[0].height == 363.0f, "box %.0f,%.0f %.0fx%.0f: bottom edge "
          "not at 363", boxes[0].left, boxes[0].top, boxes[0].width, boxes[0].height);
  }

  dsx_motion_free(motion);
  image_free(&img);
}

/* A small frame, where the detector uses smaller cells. */
static void test_small_frame_detects_object(void) {
  image img = image_new(160, 120, 160);
  dsx_detector_params params = default_params();
  params.min_area = 50;
  dsx_motion *motion = new_detector(&img, 10.0, &params);
  dsx_box boxes[MAX_BOXES];

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);

  int bad_frames = 0;
  for (int n = 0; n < 20; n++) {
    rect truth = {10 + 4 * n, 40, 16, 24};
    draw_background(&img, 1.0, 0.0, 0, 0);
    fill_rect(&img, truth, 240);
    uint32_t count = process(motion, &img, boxes);
    if (count != 1 || !box_near(&boxes[0], truth, 4.0)) bad_frames++;
  }
  CHECK(bad_frames == 0, "%d of 20 frames at 160x120 without one box near the object",
        bad_frames);

  dsx_motion_free(motion);
  image_free(&img);
}

/* --------------------------------------------------------------------------------- */
/* Exposure                                                                           */
/* --------------------------------------------------------------------------------- */

typedef struct {
  uint32_t boxes_in_first_two; /* boxes in the step frame and the one after */
  uint32_t boxes_after;        /* boxes in the later frames */
  bool object_found_after;     /* a new object after the step was detected */
} exposure_result;

/* Shows 20 frames of the background with `base_gain` and `base_offset`, then switches to
 * `gain` and `offset` at once and shows 40 more. From the 30th frame after the step, a
 * rectangle moves through, and it must still be detected. */
static exposure_result run_exposure_step(double base_gain, double base_offset, double gain,
                                         double offset) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 777;
  exposure_result result = {0, 0, true};

  for (int n = 0; n < 20; n++) {
    draw_background(&img, base_gain, base_offset, 0, 0);
    add_noise(&img, 3, &noise);
    process(motion, &img, boxes);
  }
  for (int n = 0; n < 40; n++) {
    draw_background(&img, gain, offset, 0, 0);
    rect truth = {100 + 8 * (n - 30), 120, 48, 72};
    if (n >= 30) fill_rect(&img, truth, 250);
    add_noise(&img, 3, &noise);
    uint32_t count = process(motion, &img, boxes);

    if (n < 2) {
      result.boxes_in_first_two += count;
    } else if (n < 30) {
      result.boxes_after += count;
    } else if (count != 1 || !box_near(&boxes[0], truth, EDGE_TOLERANCE)) {
      result.object_found_after = false;
    }
  }

  dsx_motion_free(motion);
  image_free(&img);
  return result;
}

static void test_brightness_step_up_gives_no_box(void) {
  exposure_result result = run_exposure_step(1.0, 0.0, 1.0, 40.0);
  CHECK(result.boxes_after == 0, "%u boxes in the 28 frames after +40 gray levels",
        result.boxes_after);
  CHECK(result.object_found_after, "an object after the step was missed");
  printf("  brightness +40: %u boxes in the step frame and the next\n",
         result.boxes_in_first_two);
}

static void test_brightness_step_down_gives_no_box(void) {
  exposure_result result = run_exposure_step(1.0, 0.0, 1.0, -40.0);
  CHECK(result.boxes_after == 0, "%u boxes in the 28 frames after -40 gray levels",
        result.boxes_after);
  CHECK(result.object_found_after, "an object after the step was missed");
  printf("  brightness -40: %u boxes in the step frame and the next\n",
         result.boxes_in_first_two);
}

static void test_gain_step_gives_no_box(void) {
  exposure_result result = run_exposure_step(1.0, 0.0, 0.6, 0.0);
  CHECK(result.boxes_after == 0, "%u boxes in the 28 frames after a gain of 0.6",
        result.boxes_after);
  CHECK(result.object_found_after, "an object after the step was missed");
  printf("  gain 0.6: %u boxes in the step frame and the next\n", result.boxes_in_first_two);
}

/* A background from dark (about 35) to bright (about 205) brightens by 60 gray levels:
 * the relative change differs across the frame (+170 % to +30 %), so a gain alone
 * cannot model it. */
static void test_brightness_step_on_wide_range_background(void) {
  exposure_result result = run_exposure_step(1.5, -60.0, 1.5, 0.0);
  CHECK(result.boxes_after == 0, "%u boxes in the 28 frames after +60 gray levels",
        result.boxes_after);
  CHECK(result.object_found_after, "an object after the step was missed");
  printf("  wide range +60: %u boxes in the step frame and the next\n",
         result.boxes_in_first_two);
}

/* The camera turns to another scene: after at most two frames the model restarts and
 * reports nothing, and a new object is found. */
static void test_scene_change_restarts_model(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 1313;

  for (int n = 0; n < 10; n++) {
    draw_background(&img, 1.0, 0.0, 0, 0);
    add_noise(&img, 3, &noise);
    process(motion, &img, boxes);
  }

  uint32_t late_boxes = 0;
  for (int n = 0; n < 20; n++) {
    draw_background(&img, 1.0, 0.0, 37, 23); /* another part of the texture */
    add_noise(&img, 3, &noise);
    uint32_t count = process(motion, &img, boxes);
    if (n >= 2) late_boxes += count;
  }
  CHECK(late_boxes == 0, "%u boxes in the 18 frames from the third after a scene change",
        late_boxes);

  rect truth = {300, 100, 48, 80};
  draw_background(&img, 1.0, 0.0, 37, 23);
  fill_rect(&img, truth, 245);
  uint32_t count = process(motion, &img, boxes);
  CHECK(count == 1, "%u boxes for an object after the scene change", count);
  if (count >= 1) {
    CHECK(box_near(&boxes[0], truth, EDGE_TOLERANCE), "box %.0f,%.0f %.0fx%.0f",
          boxes[0].left, boxes[0].top, boxes[0].width, boxes[0].height);
  }

  dsx_motion_free(motion);
  image_free(&img);
}

/* The exposure steps while an object moves through: the object keeps exactly one box. */
static void test_exposure_step_with_moving_object(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 4242;

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);

  int bad_frames = 0;
  uint32_t worst_count = 1;
  for (int n = 0; n < 60; n++) {
    bool after_step = n >= 30;
    rect truth = {40 + 8 * n, 150, 40, 64};
    draw_background(&img, 1.0, after_step ? 40.0 : 0.0, 0, 0);
    fill_rect(&img, truth, 20);
    add_noise(&img, 3, &noise);
    uint32_t count = process(motion, &img, boxes);
    if (n == 30 || n == 31) continue; /* the step frame and the next may show more */
    if (count != 1 || !box_near(&boxes[0], truth, EDGE_TOLERANCE)) {
      bad_frames++;
      if (count != 1) worst_count = count;
    }
  }
  CHECK(bad_frames == 0, "%d frames without exactly one box near the object (e.g. %u boxes)",
        bad_frames, worst_count);

  dsx_motion_free(motion);
  image_free(&img);
}

/* Camera gain of frame `n` while auto exposure reacts to a bright object: 1.0 for 10
 * frames, down by 0.03 a frame to 0.55, then, when `recovers`, up by 0.02 a frame to
 * 0.95. */
static double ramp_gain(int n, bool recovers) {
  if (n < 10) return 1.0;
  if (n < 25) return 1.0 - 0.03 * (n - 10);
  if (!recovers) return 0.55;
  if (n < 45) return 0.55 + 0.02 * (n - 25);
  return 0.95;
}

/* Auto exposure ramps the gain down by 3 % a frame and back up, as in a real camera
 * when a bright car drives in, while an object moves: it keeps exactly one box. A
 * ramp is harder than a step because no single frame changes enough to restart the
 * model. */
static void test_exposure_ramp_with_moving_object(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 12.5, NULL);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 8080;

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);

  int bad_frames = 0;
  uint32_t bad_count = 1;
  for (int n = 0; n < 70; n++) {
    double gain = ramp_gain(n, true);
    rect truth = {20 + 8 * n, 140, 44, 70};
    draw_background(&img, gain, 0.0, 0, 0);
    fill_rect(&img, truth, clamp_gray(250.0 * gain));
    add_noise(&img, 3, &noise);
    uint32_t count = process(motion, &img, boxes);
    if (count != 1 || !box_near(&boxes[0], truth, EDGE_TOLERANCE)) {
      bad_frames++;
      bad_count = count;
    }
  }
  CHECK(bad_frames == 0, "%d of 70 frames without exactly one box near the object (e.g. %u)",
        bad_frames, bad_count);

  dsx_motion_free(motion);
  image_free(&img);
}

/* White patches clip at 255. When the exposure drops, the true brightness behind the
 * clipped pixels shows up: the patches darken less than the rest. That must not be
 * foreground. */
static void test_clipped_highlights_during_exposure_drop(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 12.5, NULL);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 99;
  /* Painted markings whose scene brightness is 420, far beyond what 8 bits hold. */
  const rect markings[] = {{100, 60, 10, 120}, {300, 200, 120, 12}, {520, 40, 30, 30}};
  uint32_t total = 0;

  for (int n = 0; n < 60; n++) {
    double gain = ramp_gain(n, false);
    draw_background(&img, gain, 0.0, 0, 0);
    for (size_t m = 0; m < sizeof markings / sizeof markings[0]; m++) {
      fill_rect(&img, markings[m], clamp_gray(420.0 * gain));
    }
    add_noise(&img, 2, &noise);
    total += process(motion, &img, boxes);
  }
  CHECK(total == 0, "%u boxes while the exposure fell under clipped markings", total);

  dsx_motion_free(motion);
  image_free(&img);
}

/* --------------------------------------------------------------------------------- */
/* Selective update                                                                   */
/* --------------------------------------------------------------------------------- */

/* An object walks in over 2 s and stands still for `still_seconds` at 10 fps. Returns
 * the number of standing frames in which it was not found as one box, and writes the
 * box count of the last frame. */
static int run_still_object(const dsx_detector_params *params, int still_seconds,
                            uint32_t *last_count) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, params);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 2024;
  rect stand = {300, 120, 44, 110};
  int missed = 0;

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);

  for (int n = 0; n < 20; n++) {
    rect walking = {stand.left - 10 * (20 - n), stand.top, stand.width, stand.height};
    draw_background(&img, 1.0, 0.0, 0, 0);
    fill_rect(&img, walking, 30);
    add_noise(&img, 4, &noise);
    process(motion, &img, boxes);
  }

  uint32_t count = 0;
  for (int n = 0; n < still_seconds * 10; n++) {
    draw_background(&img, 1.0, 0.0, 0, 0);
    fill_rect(&img, stand, 30);
    add_noise(&img, 4, &noise);
    count = process(motion, &img, boxes);
    if (count != 1 || !box_near(&boxes[0], stand, EDGE_TOLERANCE)) {
      missed++;
    }
  }
  *last_count = count;

  dsx_motion_free(motion);
  image_free(&img);
  return missed;
}

static void test_still_object_stays_detected_for_25_seconds(void) {
  uint32_t last_count = 0;
  int missed = run_still_object(NULL, 25, &last_count);
  CHECK(missed == 0, "the standing object was missed in %d of 250 frames", missed);
  CHECK(last_count == 1, "%u boxes after 25 s of standing still", last_count);
}

static void test_still_object_absorbed_after_absorb_seconds(void) {
  dsx_detector_params params = default_params();
  params.absorb_seconds = 5.0f;
  uint32_t last_count = 0;
  /* Still found after 3 s of standing, gone after 8 s. A cell's absorb clock starts when
   * the walking object first covers it, less than 1 s before it stops. */
  int missed_early = run_still_object(&params, 3, &last_count);
  CHECK(missed_early == 0, "missed in %d of the first 30 frames with absorb_seconds 5",
        missed_early);
  run_still_object(&params, 8, &last_count);
  CHECK(last_count == 0, "%u boxes after 8 s of standing with absorb_seconds 5", last_count);
}

/* True when some box of `boxes` lies near `place`. */
static bool any_box_near(const dsx_box *boxes, uint32_t count, rect place) {
  for (uint32_t i = 0; i < count && i < MAX_BOXES; i++) {
    if (box_near(&boxes[i], place, EDGE_TOLERANCE)) return true;
  }
  return false;
}

/* An object in the first frame becomes part of the model. When it walks away, the
 * floor it uncovers is a ghost: it must be gone within 2 s, while the object itself
 * stays detected. */
static void test_object_in_first_frame_leaves_no_lasting_ghost(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 606;
  rect start = {100, 120, 44, 100};

  draw_background(&img, 1.0, 0.0, 0, 0);
  fill_rect(&img, start, 25);
  process(motion, &img, boxes);

  int ghost_frames_late = 0, object_missed = 0;
  for (int n = 1; n <= 40; n++) {
    rect walking = {start.left + 10 * n, start.top, start.width, start.height};
    draw_background(&img, 1.0, 0.0, 0, 0);
    fill_rect(&img, walking, 25);
    add_noise(&img, 3, &noise);
    uint32_t count = process(motion, &img, boxes);
    if (n > 20 && any_box_near(boxes, count, start)) ghost_frames_late++;
    if (n > 20 && !any_box_near(boxes, count, walking)) object_missed++;
  }
  CHECK(ghost_frames_late == 0, "the ghost of the first frame was still reported in %d of "
        "the frames 2-4 s later", ghost_frames_late);
  CHECK(object_missed == 0, "the walking object was missed in %d frames", object_missed);

  dsx_motion_free(motion);
  image_free(&img);
}

/* An object stands until absorbed (absorb_seconds 3), then walks away: the floor it
 * uncovers must not stay an object for long. */
static void test_absorbed_object_leaving_leaves_no_lasting_ghost(void) {
  image img = image_new(640, 360, 640);
  dsx_detector_params params = default_params();
  params.absorb_seconds = 3.0f;
  dsx_motion *motion = new_detector(&img, 10.0, &params);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 707;
  rect stand = {300, 120, 44, 100};

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);

  uint32_t count = 0;
  for (int n = 0; n < 50; n++) { /* 5 s: absorbed after 3 */
    draw_background(&img, 1.0, 0.0, 0, 0);
    fill_rect(&img, stand, 230);
    add_noise(&img, 3, &noise);
    count = process(motion, &img, boxes);
  }
  CHECK(count == 0, "the standing object was not absorbed after 5 s (%u boxes)", count);

  int ghost_frames_late = 0;
  for (int n = 1; n <= 40; n++) {
    rect walking = {stand.left + 10 * n, stand.top, stand.width, stand.height};
    draw_background(&img, 1.0, 0.0, 0, 0);
    fill_rect(&img, walking, 230);
    add_noise(&img, 3, &noise);
    count = process(motion, &img, boxes);
    if (n > 20 && any_box_near(boxes, count, stand)) ghost_frames_late++;
  }
  CHECK(ghost_frames_late == 0, "the uncovered floor was still reported in %d of the "
        "frames 2-4 s after the object left", ghost_frames_late);

  dsx_motion_free(motion);
  image_free(&img);
}

/* --------------------------------------------------------------------------------- */
/* What is not an object                                                              */
/* --------------------------------------------------------------------------------- */

static void test_noise_below_threshold_gives_no_box(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];
  uint32_t noise = 31337;
  uint32_t total = 0;

  for (int n = 0; n < 100; n++) {
    draw_background(&img, 1.0, 0.0, 0, 0);
    add_noise(&img, 24, &noise); /* per pixel up to 24, the threshold is 25 */
    total += process(motion, &img, boxes);
  }
  CHECK(total == 0, "%u boxes on 100 frames of noise below the threshold", total);

  dsx_motion_free(motion);
  image_free(&img);
}

/* The camera sways by up to 3 pixels over a patch of high-contrast stripes: every
 * stripe edge moves, but nothing is an object. */
static void test_camera_sway_gives_no_box(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];
  const int shifts[] = {0, 1, 2, 3, 2, 1, 0, -1, -2, -3, -2, -1, 0};
  uint32_t total = 0;

  for (size_t n = 0; n < sizeof shifts / sizeof shifts[0]; n++) {
    draw_striped_scene(&img, shifts[n]);
    total += process(motion, &img, boxes);
  }
  CHECK(total == 0, "%u boxes while the stripes swayed by up to 3 pixels", total);

  /* A real object on the same stripes is still found. */
  rect truth = {260, 120, 60, 90};
  uint32_t count = 0;
  for (int n = 0; n < 3; n++) {
    draw_striped_scene(&img, 0);
    fill_rect(&img, (rect){truth.left + 8 * n, truth.top, truth.width, truth.height}, 128);
    count = process(motion, &img, boxes);
  }
  truth.left += 16;
  CHECK(count == 1, "%u boxes for a gray object on the stripes", count);
  if (count >= 1) {
    CHECK(box_near(&boxes[0], truth, EDGE_TOLERANCE), "box %.0f,%.0f %.0fx%.0f",
          boxes[0].left, boxes[0].top, boxes[0].width, boxes[0].height);
  }

  dsx_motion_free(motion);
  image_free(&img);
}

/* Appears at frame 2 and stays: with min_area 2000, a 40x40 square (1600 pixels) is
 * filtered out and a 48x48 square (2304 pixels) is reported. */
static uint32_t count_square(int side) {
  image img = image_new(640, 360, 640);
  dsx_detector_params params = default_params();
  params.min_area = 2000;
  dsx_motion *motion = new_detector(&img, 10.0, &params);
  dsx_box boxes[MAX_BOXES];

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);
  draw_background(&img, 1.0, 0.0, 0, 0);
  fill_rect(&img, (rect){200, 100, side, side}, 250);
  uint32_t count = process(motion, &img, boxes);

  dsx_motion_free(motion);
  image_free(&img);
  return count;
}

static void test_min_area_filter(void) {
  uint32_t small = count_square(40);
  uint32_t large = count_square(48);
  CHECK(small == 0, "a 1600-pixel square passed min_area 2000 (%u boxes)", small);
  CHECK(large == 1, "a 2304-pixel square gave %u boxes with min_area 2000", large);
}

/* A person whose belt matches the floor splits into two blobs 12 pixels apart: they
 * are reported as one box. Two objects 100 pixels apart stay two. */
static void test_split_object_merged(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);

  rect upper = {200, 80, 48, 60}, lower = {204, 152, 40, 70}, other = {400, 80, 48, 142};
  rect whole = {200, 80, 48, 142};
  draw_background(&img, 1.0, 0.0, 0, 0);
  fill_rect(&img, upper, 20);
  fill_rect(&img, lower, 20);
  fill_rect(&img, other, 20);
  uint32_t count = process(motion, &img, boxes);

  CHECK(count == 2, "expected 2 boxes (one merged person, one other), got %u", count);
  bool found_whole = false;
  for (uint32_t i = 0; i < count && i < MAX_BOXES; i++) {
    if (box_near(&boxes[i], whole, EDGE_TOLERANCE)) found_whole = true;
  }
  CHECK(found_whole, "no box covers both parts of the split object");

  dsx_motion_free(motion);
  image_free(&img);
}

/* --------------------------------------------------------------------------------- */
/* Output contract                                                                    */
/* --------------------------------------------------------------------------------- */

static void test_boxes_largest_first_and_truncated(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *motion = new_detector(&img, 10.0, NULL);
  dsx_box boxes[MAX_BOXES];

  draw_background(&img, 1.0, 0.0, 0, 0);
  process(motion, &img, boxes);

  rect small = {60, 60, 40, 40}, large = {400, 150, 100, 120};
  draw_background(&img, 1.0, 0.0, 0, 0);
  fill_rect(&img, small, 250);
  fill_rect(&img, large, 10);
  uint32_t count = process(motion, &img, boxes);
  CHECK(count == 2, "expected 2 boxes, got %u", count);
  if (count == 2) {
    CHECK(box_near(&boxes[0], large, EDGE_TOLERANCE), "box 0 is not the large object");
    CHECK(box_near(&boxes[1], small, EDGE_TOLERANCE), "box 1 is not the small object");
  }

  /* With max_boxes 1 the returned count is still 2, and only the largest is written. */
  dsx_box one[2];
  memset(one, 0xab, sizeof one);
  dsx_box sentinel;
  memset(&sentinel, 0xab, sizeof sentinel);
  uint32_t truncated = dsx_motion_process(motion, img.pixels, img.stride, one, 1);
  CHECK(truncated == 2, "max_boxes 1 returned %u instead of the object count 2", truncated);
  CHECK(box_near(&one[0], large, EDGE_TOLERANCE), "the one box written is not the largest");
  CHECK(memcmp(&one[1], &sentinel, sizeof sentinel) == 0, "wrote past max_boxes");

  dsx_motion_free(motion);
  image_free(&img);
}

/* Runs the same 40 frames through two detectors and compares every box. */
static void test_same_input_same_boxes(void) {
  image img = image_new(640, 360, 640);
  dsx_motion *first = new_detector(&img, 10.0, NULL);
  dsx_motion *second = new_detector(&img, 10.0, NULL);
  dsx_box boxes_a[MAX_BOXES], boxes_b[MAX_BOXES];
  uint32_t noise = 5;
  int differences = 0;

  for (int n = 0; n < 40; n++) {
    draw_background(&img, 1.0, n > 20 ? 25.0 : 0.0, 0, 0);
    fill_rect(&img, (rect){20 + 12 * n, 100, 50, 80}, 240);
    fill_rect(&img, (rect){600 - 9 * n, 220, 36, 60}, 20);
    add_noise(&img, 6, &noise);
    uint32_t count_a = process(first, &img, boxes_a);
    uint32_t count_b = process(second, &img, boxes_b);
    uint32_t written = count_a < MAX_BOXES ? count_a : MAX_BOXES;
    if (count_a != count_b || memcmp(boxes_a, boxes_b, written * sizeof *boxes_a) != 0) {
      differences++;
    }
  }
  CHECK(differences == 0, "%d of 40 frames gave different boxes for the same input",
        differences);

  dsx_motion_free(first);
  dsx_motion_free(second);
  image_free(&img);
}

/* Bytes between rows (stride > width) must be ignored. */
static void test_stride_padding_ignored(void) {
  image packed = image_new(640, 360, 640);
  image padded = image_new(640, 360, 704);
  dsx_motion *motion_packed = new_detector(&packed, 10.0, NULL);
  dsx_motion *motion_padded = new_detector(&padded, 10.0, NULL);
  dsx_box boxes_packed[MAX_BOXES], boxes_padded[MAX_BOXES];
  uint32_t garbage = 17;
  int differences = 0;

  for (int n = 0; n < 10; n++) {
    rect truth = {100 + 10 * n, 100, 50, 70};
    draw_background(&packed, 1.0, 0.0, 0, 0);
    draw_background(&padded, 1.0, 0.0, 0, 0);
    fill_rect(&packed, truth, 240);
    fill_rect(&padded, truth, 240);
    for (uint32_t y = 0; y < padded.height; y++) {
      for (uint32_t x = padded.width; x < padded.stride; x++) {
        padded.pixels[(size_t)y * padded.stride + x] = (uint8_t)next_random(&garbage);
      }
    }
    uint32_t count_packed = process(motion_packed, &packed, boxes_packed);
    uint32_t count_padded = process(motion_padded, &padded, boxes_padded);
    uint32_t written = count_packed < MAX_BOXES ? count_packed : MAX_BOXES;
    if (count_packed != count_padded ||
        memcmp(boxes_packed, boxes_padded, written * sizeof *boxes_packed) != 0) {
      differences++;
    }
  }
  CHECK(differences == 0, "%d of 10 frames differ between stride 640 and 704", differences);

  dsx_motion_free(motion_packed);
  dsx_motion_free(motion_padded);
  image_free(&packed);
  image_free(&padded);
}

static void test_invalid_arguments(void) {
  CHECK(dsx_motion_new(0, 360, 10.0, NULL) == NULL, "width 0 was accepted");
  CHECK(dsx_motion_new(640, 0, 10.0, NULL) == NULL, "height 0 was accepted");
  CHECK(dsx_motion_new(100000, 100, 10.0, NULL) == NULL, "width 100000 was accepted");
  dsx_motion_free(NULL);

  image img = image_new(64, 48, 64);
  dsx_box boxes[MAX_BOXES];
  CHECK(dsx_motion_process(NULL, img.pixels, 64, boxes, MAX_BOXES) == 0,
        "a NULL detector returned objects");

  /* An fps <= 0 or NaN falls back to 30. Fields past a shorter `size` (a caller built
   * against an older struct) and invalid seconds get the defaults. */
  dsx_detector_params old_params = default_params();
  old_params.size = (uint32_t)(offsetof(dsx_detector_params, min_area) + sizeof(uint32_t));
  old_params.threshold = 30;
  old_params.morph_radius = 7; /* past `size`: must be ignored */
  old_params.absorb_seconds = -4.0f;
  old_params.adapt_seconds = NAN;
  dsx_motion *motion = dsx_motion_new(64, 48, NAN, &old_params);
  CHECK(motion != NULL, "fps NaN with a shorter params struct was rejected");
  dsx_motion *negative_fps = dsx_motion_new(64, 48, -5.0, NULL);
  CHECK(negative_fps != NULL, "fps -5 was rejected instead of defaulting to 30");
  dsx_motion_free(negative_fps);

  if (motion != NULL) {
    draw_background(&img, 1.0, 0.0, 0, 0);
    CHECK(dsx_motion_process(motion, NULL, 64, boxes, MAX_BOXES) == 0,
          "a NULL frame returned objects");
    CHECK(dsx_motion_process(motion, img.pixels, 63, boxes, MAX_BOXES) == 0,
          "a stride below the width returned objects");
    CHECK(dsx_motion_process(motion, img.pixels, 64, boxes, MAX_BOXES) == 0,
          "the first frame returned objects");

    /* NULL boxes or max_boxes 0: the count is still returned, nothing is written. */
    fill_rect(&img, (rect){20, 10, 20, 24}, 250);
    uint32_t without_boxes = dsx_motion_process(motion, img.pixels, 64, NULL, MAX_BOXES);
    CHECK(without_boxes == 1, "NULL boxes returned %u objects instead of 1", without_boxes);
    uint32_t zero_max = dsx_motion_process(motion, img.pixels, 64, boxes, 0);
    CHECK(zero_max == 1, "max_boxes 0 returned %u objects instead of 1", zero_max);
  }
  dsx_motion_free(motion);
  image_free(&img);
}

int main(void) {
  test_moving_bright_rectangle();
  test_moving_dark_rectangle();
  test_odd_size_object_at_edge();
  test_small_frame_detects_object();
  test_brightness_step_up_gives_no_box();
  test_brightness_step_down_gives_no_box();
  test_gain_step_gives_no_box();
  test_brightness_step_on_wide_range_background();
  test_scene_change_restarts_model();
  test_exposure_step_with_moving_object();
  test_exposure_ramp_with_moving_object();
  test_clipped_highlights_during_exposure_drop();
  test_still_object_stays_detected_for_25_seconds();
  test_still_object_absorbed_after_absorb_seconds();
  test_object_in_first_frame_leaves_no_lasting_ghost();
  test_absorbed_object_leaving_leaves_no_lasting_ghost();
  test_noise_below_threshold_gives_no_box();
  test_camera_sway_gives_no_box();
  test_min_area_filter();
  test_split_object_merged();
  test_boxes_largest_first_and_truncated();
  test_same_input_same_boxes();
  test_stride_padding_ignored();
  test_invalid_arguments();

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

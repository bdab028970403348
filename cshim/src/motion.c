/*
 * motion.c — moving-object detection on 8-bit luma frames from a fixed camera.
 *
 * Ownership and threads: a dsx_motion owns every buffer it uses, all allocated in
 * dsx_motion_new, so dsx_motion_process never allocates. One thread at a time calls
 * dsx_motion_process (the stream's streaming thread). There is no global state, so
 * detectors of different streams run in parallel.
 *
 * Steps of one frame:
 *
 *   1. Downsample: average `scale` x `scale` blocks of input pixels into a grid of cells
 *      and count the clipped pixels of each cell. At 768x432 the grid is 192x108, so
 *      every later step touches about 21 k cells instead of 332 k pixels. Cells on the
 *      right and bottom edge may cover fewer pixels and average what they cover.
 *   2. Exposure: fit frame = gain * background + offset over the cells away from the
 *      previous frame's objects (robust medians, see estimate_exposure) and apply the
 *      fit to the whole background, hidden cells included. A camera's auto exposure
 *      thus moves the model instead of turning the frame into foreground. Pixels that
 *      were clipped at white hide their true brightness, so cells that contain them
 *      get a range of expected values (see expected_range_chunk). A fit outside
 *      plausible limits, or a frame where most cells still differ afterwards,
 *      re-initializes the model.
 *   3. Threshold: a cell is foreground when its mean lies at least `threshold` outside
 *      the expected range of its background (one value unless it has clipped pixels).
 *   4. Morphology on the binary grid: opening (removes specks), then closing (fills
 *      holes and joins nearby fragments), square element of radius morph_radius
 *      rounded up to whole cells.
 *   5. Connected components with 8-connectivity (two-pass labelling, union-find).
 *   6. Merging: components whose bounding boxes overlap or lie at most
 *      MERGE_GAP_PERCENT of the frame apart become one object, because a person or a
 *      car whose colours match the background in places splits into several blobs.
 *      Two objects closer than that are reported as one box.
 *   7. Objects whose foreground area reaches min_area pixels are reported, largest box
 *      first.
 *   8. Selective update: cells away from reported objects adapt to the frame with time
 *      constant adapt_seconds. Cells inside an object's box, widened by the merge gap,
 *      keep their background, so a person who stands still stays foreground and the
 *      faint parts around them (shadow, clothes close to the floor's colour) are not
 *      learned. A cell that has been inside an object for absorb_seconds without a
 *      break is absorbed: its background becomes the current value.
 *   9. Ghosts: when an object that is part of the model leaves (it was in the first
 *      frame, or stood until absorbed), the uncovered background is foreground too.
 *      Such a ghost has its outline in the background, not in the frame (see
 *      add_outline_contrast), and is absorbed after GHOST_ABSORB_SECONDS. It is
 *      reported until then.
 *
 * Arithmetic: step 1 is the only per-pixel pass and uses integers. The model works in
 * float on the grid. The bulk loops run over fixed-size chunks, which GCC 12 vectorizes
 * at -O2. No step depends on timing or on the order of equal keys, so the same frames
 * give the same boxes.
 */
/* The per-frame loops get an AVX2 clone besides the baseline one; the loader picks the
 * clone the CPU supports. The clones run the same operations in the same order, so the
 * boxes do not depend on the host. On x86-64 with GCC only. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define DSX_HOT __attribute__((target_clones("avx2", "default")))
#else
#define DSX_HOT
#endif
#include "motion.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Defaults for fields of dsx_detector_params left at zero. */
#define DEFAULT_THRESHOLD 25u
#define DEFAULT_MIN_AREA 150u
#define DEFAULT_MORPH_RADIUS 1u
#define DEFAULT_ABSORB_SECONDS 60.0f
#define DEFAULT_ADAPT_SECONDS 5.0f
#define DEFAULT_FPS 30.0

/* Cell size: MAX_SCALE pixels, halved while the shorter side of the grid would get
 * fewer than MIN_GRID_CELLS cells, so small frames keep enough resolution. The 16-bit
 * column sums of the downsampling hold MAX_SCALE rows of 255. */
#define MAX_SCALE 4u
#define MIN_GRID_CELLS 90u

/* Largest frame side accepted, which keeps every pixel and cell count far from
 * overflow. */
#define MAX_FRAME_SIDE 16384u

/* A component is a ghost when the contrast across its outline is more than
 * GHOST_EDGE_RATIO times stronger in the background than in the frame (see
 * add_outline_contrast). */
#define GHOST_EDGE_RATIO 2.0f

/* Seconds after which a ghost is absorbed into the background. A real object that looks
 * like a ghost for a moment (see merge_components) stays detected. */
#define GHOST_ABSORB_SECONDS 1.0

/* Components whose boxes are at most this far apart are merged, in percent of the
 * frame's longer side (16 pixels at 768x432), so that the rule scales with the
 * processing size as the objects do. */
#define MERGE_GAP_PERCENT 2u

/* Exposure fit. Cells darker than EXPOSURE_MIN_GRAY or brighter than EXPOSURE_MAX_GRAY
 * (in the background or the frame) are near the ends of the sensor's range and carry
 * little information about the gain. The fit needs at least EXPOSURE_MIN_FRACTION of
 * the sampled cells. Below EXPOSURE_MIN_SPREAD gray levels between the medians of the
 * dark and the bright group, the offset and the gain cannot be separated, so only a
 * gain is fitted. */
#define EXPOSURE_MIN_GRAY 6
#define EXPOSURE_MAX_GRAY 249
#define EXPOSURE_MIN_FRACTION 0.25f
#define EXPOSURE_MIN_SPREAD 32.0f

/* A fit outside these limits between two consecutive frames, or a frame where more than
 * REINIT_FOREGROUND_FRACTION of the cells are foreground after the fit, is treated as a
 * scene change (camera moved, lights switched): the model restarts from this frame. */
#define EXPOSURE_MIN_GAIN 0.5f
#define EXPOSURE_MAX_GAIN 2.0f
#define EXPOSURE_MAX_OFFSET 64.0f
#define REINIT_FOREGROUND_FRACTION 0.6f

#define HISTOGRAM_BINS 256

/* Pixels at or above this value count as clipped: it covers white in full range (255)
 * and in limited range (235), as when the Y plane of I420 is read directly. */
#define CLIPPED_GRAY 232u

/* Upper bound of background and clip_level values. They may pass 255 after an exposure
 * increase, and the bound keeps a run of increases from growing them without limit. */
#define MODEL_MAX_GRAY 1023.0f

/* Elements per inner loop of the bulk array operations. GCC 12 vectorizes at -O2 only
 * with its "very cheap" cost model, which needs a compile-time trip count. */
#define VECTOR_CHUNK 32u

typedef struct {
  uint32_t x0, y0, x1, y1;    /* bounding box in cells, inclusive */
  uint64_t area;              /* foreground pixels of the input frame */
  float frame_edge;           /* contrast across the outline in the frame */
  float background_edge;      /* contrast across the outline in the background */
  uint32_t merged_into;       /* own index while alive, else the component that took it */
  bool ghost;                 /* looks like background uncovered by an object that left */
} component;

typedef struct {
  uint8_t background, frame; /* gray bins */
} exposure_sample_pair;

/* Role of a cell in the background update (see update_background_chunk). */
enum { CELL_FREE = 0, CELL_NEAR_OBJECT = 1, CELL_OBJECT = 2, CELL_GHOST = 3 };

struct dsx_motion {
  /* Resolved parameters. */
  uint32_t width, height;
  float threshold;
  uint64_t min_area;          /* input pixels */
  uint32_t morph_radius;      /* cells */
  uint32_t merge_gap;         /* cells */
  uint32_t freeze_margin;     /* cells */
  uint32_t absorb_frames;
  uint32_t ghost_absorb_frames;
  float adapt_rate;           /* weight of the new frame in the background update */

  /* Grid geometry. */
  uint32_t scale;             /* input pixels per cell side */
  uint32_t grid_width, grid_height;
  size_t cells;
  size_t padded_cells;        /* cells rounded up to a multiple of VECTOR_CHUNK */

  /* Model state, one entry per cell. */
  float *background;          /* gray levels in the exposure of the last frame; may pass
                                 255 after an exposure increase (see
                                 expected_range_chunk) */
  float *background_clipped;  /* fraction of the background's pixels that were clipped */
  float *clip_level;          /* what a pixel that read 255 in the background reads now */
  uint32_t *object_frames;    /* consecutive frames the cell was inside an object */
  uint32_t *ghost_frames;     /* consecutive frames the cell was inside a ghost */
  uint8_t *cell_state;        /* CELL_* of the cell in the last frame */
  uint64_t frames_seen;

  /* Scratch of one frame. */
  float *frame;               /* the downsampled frame */
  float *frame_clipped;       /* fraction of each cell's pixels at or above CLIPPED_GRAY */
  uint16_t *column_sums;      /* `width` sums of one row of cells, per input column */
  uint16_t *column_clipped;   /* `width` counts of clipped pixels, per input column */
  exposure_sample_pair *samples;
  size_t sample_lattice_cells; /* cells that collect_exposure_samples visits */
  uint8_t *mask;              /* the threshold result, then after morphology */
  uint8_t *mask_scratch;
  uint32_t *labels;           /* 0 = background, else a provisional label, then
                                 component index + 1 */
  uint32_t *parent;           /* union-find over provisional labels */
  uint32_t *label_component;  /* provisional label -> component index */
  component *components;
  dsx_box *sorted_boxes;
};

/* --------------------------------------------------------------------------------- */
/* Parameters, geometry, lifetime                                                     */
/* --------------------------------------------------------------------------------- */

static dsx_detector_params resolve_params(const dsx_detector_params *requested) {
  dsx_detector_params params;
  memset(&params, 0, sizeof params);

  if (requested != NULL) {
    /* A caller built against an older, shorter struct passes a smaller size; fields
     * past it stay zero and get their defaults. A size of 0 means the caller forgot
     * to set it, so the struct is taken to be this version's. */
    size_t bytes = requested->size == 0 ? sizeof params : requested->size;
    if (bytes > sizeof params) bytes = sizeof params;
    memcpy(&params, requested, bytes);
  }

  if (params.threshold == 0) params.threshold = DEFAULT_THRESHOLD;
  if (params.threshold > 255) params.threshold = 255;
  if (params.min_area == 0) params.min_area = DEFAULT_MIN_AREA;
  if (params.morph_radius == 0) params.morph_radius = DEFAULT_MORPH_RADIUS;
  if (params.morph_radius > MAX_FRAME_SIDE) params.morph_radius = MAX_FRAME_SIDE;
  /* `!(x > 0)` also catches NaN; negative values are invalid and get the default. */
  if (!(params.absorb_seconds > 0.0f)) params.absorb_seconds = DEFAULT_ABSORB_SECONDS;
  if (!(params.adapt_seconds > 0.0f)) params.adapt_seconds = DEFAULT_ADAPT_SECONDS;
  return params;
}

static uint32_t choose_scale(uint32_t width, uint32_t height) {
  uint32_t shorter = width < height ? width : height;
  uint32_t scale = MAX_SCALE;
  while (scale > 1 && shorter / scale < MIN_GRID_CELLS) scale /= 2;
  return scale;
}

static uint32_t pixels_to_cells(uint32_t pixels, uint32_t scale) {
  return (pixels + scale - 1) / scale;
}

/* Converts seconds to a frame count of at least 1, saturating at UINT32_MAX. */
static uint32_t seconds_to_frames(double seconds, double fps) {
  double frames = ceil(seconds * fps);
  if (!(frames >= 1.0)) return 1;
  if (frames >= (double)UINT32_MAX) return UINT32_MAX;
  return (uint32_t)frames;
}

/* Input pixels covered by grid column (or row) `index` along a frame side of
 * `frame_side` pixels: `scale`, except at the right (bottom) edge. */
static uint32_t cell_extent(uint32_t index, uint32_t scale, uint32_t frame_side) {
  uint32_t start = index * scale;
  uint32_t end = start + scale;
  if (end > frame_side) end = frame_side;
  return end - start;
}

dsx_motion *dsx_motion_new(uint32_t width, uint32_t height, double fps,
                           const dsx_detector_params *params) {
  if (width == 0 || height == 0) return NULL;
  if (width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE) return NULL;
  if (!(fps > 0.0) || !isfinite(fps)) fps = DEFAULT_FPS;

  dsx_detector_params resolved = resolve_params(params);

  dsx_motion *motion = calloc(1, sizeof *motion);
  if (motion == NULL) return NULL;

  motion->width = width;
  motion->height = height;
  motion->scale = choose_scale(width, height);
  motion->grid_width = pixels_to_cells(width, motion->scale);
  motion->grid_height = pixels_to_cells(height, motion->scale);
  motion->cells = (size_t)motion->grid_width * motion->grid_height;

  motion->threshold = (float)resolved.threshold;
  motion->min_area = resolved.min_area;
  motion->morph_radius = pixels_to_cells(resolved.morph_radius, motion->scale);
  uint32_t longer_side = width > height ? width : height;
  motion->merge_gap = pixels_to_cells(longer_side * MERGE_GAP_PERCENT / 100u, motion->scale);
  motion->freeze_margin = motion->merge_gap;
  motion->absorb_frames = seconds_to_frames(resolved.absorb_seconds, fps);
  motion->ghost_absorb_frames = seconds_to_frames(GHOST_ABSORB_SECONDS, fps);
  motion->adapt_rate = (float)(1.0 / ((double)resolved.adapt_seconds * fps));
  if (motion->adapt_rate > 1.0f) motion->adapt_rate = 1.0f;

  size_t cells = motion->cells;
  size_t padded = (cells + VECTOR_CHUNK - 1) / VECTOR_CHUNK * VECTOR_CHUNK;
  motion->padded_cells = padded;
  motion->sample_lattice_cells =
      (size_t)((motion->grid_width + 1) / 2) * ((motion->grid_height + 1) / 2);

  motion->background = calloc(padded, sizeof *motion->background);
  motion->background_clipped = calloc(padded, sizeof *motion->background_clipped);
  motion->clip_level = calloc(padded, sizeof *motion->clip_level);
  motion->object_frames = calloc(padded, sizeof *motion->object_frames);
  motion->ghost_frames = calloc(padded, sizeof *motion->ghost_frames);
  motion->cell_state = calloc(padded, sizeof *motion->cell_state);
  motion->frame = calloc(padded, sizeof *motion->frame);
  motion->frame_clipped = calloc(padded, sizeof *motion->frame_clipped);
  motion->column_sums = calloc(width, sizeof *motion->column_sums);
  motion->column_clipped = calloc(width, sizeof *motion->column_clipped);
  motion->samples = calloc(motion->sample_lattice_cells, sizeof *motion->samples);
  motion->mask = calloc(padded, sizeof *motion->mask);
  motion->mask_scratch = calloc(cells, sizeof *motion->mask_scratch);
  motion->labels = calloc(cells, sizeof *motion->labels);
  /* Labelling hands out at most one provisional label per cell, numbered from 1. */
  motion->parent = calloc(cells + 1, sizeof *motion->parent);
  motion->label_component = calloc(cells + 1, sizeof *motion->label_component);
  motion->components = calloc(cells, sizeof *motion->components);
  motion->sorted_boxes = calloc(cells, sizeof *motion->sorted_boxes);

  if (motion->background == NULL || motion->background_clipped == NULL ||
      motion->clip_level == NULL || motion->object_frames == NULL ||
      motion->ghost_frames == NULL ||
      motion->cell_state == NULL || motion->frame == NULL ||
      motion->frame_clipped == NULL || motion->column_sums == NULL ||
      motion->column_clipped == NULL || motion->samples == NULL ||
      motion->mask == NULL || motion->mask_scratch == NULL ||
      motion->labels == NULL || motion->parent == NULL ||
      motion->label_component == NULL || motion->components == NULL ||
      motion->sorted_boxes == NULL) {
    goto fail;
  }
  return motion;

fail:
  dsx_motion_free(motion);
  return NULL;
}

void dsx_motion_free(dsx_motion *motion) {
  if (motion == NULL) return;
  free(motion->background);
  free(motion->background_clipped);
  free(motion->clip_level);
  free(motion->object_frames);
  free(motion->ghost_frames);
  free(motion->cell_state);
  free(motion->frame);
  free(motion->frame_clipped);
  free(motion->column_sums);
  free(motion->column_clipped);
  free(motion->samples);
  free(motion->mask);
  free(motion->mask_scratch);
  free(motion->labels);
  free(motion->parent);
  free(motion->label_component);
  free(motion->components);
  free(motion->sorted_boxes);
  free(motion);
}

/* --------------------------------------------------------------------------------- */
/* Step 1: downsampling                                                               */
/* --------------------------------------------------------------------------------- */

/* Adds one input row to the per-column sums and clipped-pixel counts. */
static void add_row(uint16_t *restrict column_sums, uint16_t *restrict column_clipped,
                    const uint8_t *restrict row, uint32_t width) {
  size_t x = 0;
  for (; x + VECTOR_CHUNK <= width; x += VECTOR_CHUNK) {
    uint16_t *restrict sums = column_sums + x;
    uint16_t *restrict clipped = column_clipped + x;
    const uint8_t *restrict pixels = row + x;
    for (size_t k = 0; k < VECTOR_CHUNK; k++) {
      sums[k] += pixels[k];
      clipped[k] += pixels[k] >= CLIPPED_GRAY;
    }
  }
  for (; x < width; x++) {
    column_sums[x] += row[x];
    column_clipped[x] += row[x] >= CLIPPED_GRAY;
  }
}

/* Writes the mean and the clipped fraction of every cell into motion->frame and
 * motion->frame_clipped. */
static void downsample(dsx_motion *motion, const uint8_t *luma, uint32_t stride) {
  const uint32_t scale = motion->scale;
  const uint32_t width = motion->width;
  const uint32_t full_columns = width / scale;
  uint16_t *column_sums = motion->column_sums;
  uint16_t *column_clipped = motion->column_clipped;

  for (uint32_t gy = 0; gy < motion->grid_height; gy++) {
    uint32_t rows = cell_extent(gy, scale, motion->height);

    memset(column_sums, 0, width * sizeof *column_sums);
    memset(column_clipped, 0, width * sizeof *column_clipped);
    for (uint32_t y = gy * scale; y < gy * scale + rows; y++) {
      add_row(column_sums, column_clipped, luma + (size_t)y * stride, width);
    }

    float *mean = motion->frame + (size_t)gy * motion->grid_width;
    float *clipped_fraction = motion->frame_clipped + (size_t)gy * motion->grid_width;
    const float full_weight = 1.0f / (float)(scale * rows);
    for (uint32_t gx = 0; gx < full_columns; gx++) {
      const uint16_t *sums = column_sums + (size_t)gx * scale;
      const uint16_t *clipped = column_clipped + (size_t)gx * scale;
      int32_t sum, clipped_count;
      if (scale == 4) {
        /* The common case, written out as straight-line code. */
        sum = sums[0] + sums[1] + sums[2] + sums[3];
        clipped_count = clipped[0] + clipped[1] + clipped[2] + clipped[3];
      } else {
        sum = 0;
        clipped_count = 0;
        for (uint32_t k = 0; k < scale; k++) {
          sum += sums[k];
          clipped_count += clipped[k];
        }
      }
      mean[gx] = (float)sum * full_weight;
      clipped_fraction[gx] = (float)clipped_count * full_weight;
    }

    if (full_columns < motion->grid_width) {
      /* The partial cell at the right edge. */
      uint32_t sum = 0, clipped_count = 0;
      for (uint32_t x = full_columns * scale; x < width; x++) {
        sum += column_sums[x];
        clipped_count += column_clipped[x];
      }
      float weight = 1.0f / (float)((width - full_columns * scale) * rows);
      mean[full_columns] = (float)sum * weight;
      clipped_fraction[full_columns] = (float)clipped_count * weight;
    }
  }
}

/* --------------------------------------------------------------------------------- */
/* Step 2: exposure                                                                   */
/* --------------------------------------------------------------------------------- */

typedef struct {
  uint32_t count;
  uint32_t background[HISTOGRAM_BINS];
  uint32_t frame[HISTOGRAM_BINS];
} value_histograms;

/* Median of a histogram of 1-gray-level bins, interpolated inside the median bin on
 * the assumption that its values spread evenly over [bin, bin + 1). */
static float histogram_median(const uint32_t *histogram, uint32_t count) {
  double half = (double)count / 2.0;
  uint64_t below = 0;
  for (uint32_t bin = 0; bin < HISTOGRAM_BINS; bin++) {
    if (histogram[bin] == 0) continue;
    if ((double)(below + histogram[bin]) >= half) {
      return (float)((double)bin + (half - (double)below) / (double)histogram[bin]);
    }
    below += histogram[bin];
  }
  return (float)(HISTOGRAM_BINS - 1);
}

/* True when the cell can serve as a sample of the exposure fit: away from the previous
 * frame's objects and free of clipped pixels, whose true brightness is unknown. The
 * bounds also keep both values inside the histogram bins. */
static bool exposure_sample(const dsx_motion *motion, size_t i) {
  if (motion->cell_state[i] != CELL_FREE) return false;
  if (motion->background_clipped[i] > 0.0f || motion->frame_clipped[i] > 0.0f) return false;
  float b = motion->background[i];
  float f = motion->frame[i];
  return b >= EXPOSURE_MIN_GRAY && b <= EXPOSURE_MAX_GRAY && f >= EXPOSURE_MIN_GRAY &&
         f <= EXPOSURE_MAX_GRAY;
}

/* Collects the samples of the exposure fit from every other cell of every other row:
 * a quarter of the grid is plenty for medians and costs a quarter of the time. Stores
 * the gray bins of background and frame in motion->samples and returns their number. */
static uint32_t collect_exposure_samples(dsx_motion *motion) {
  uint32_t count = 0;
  for (uint32_t y = 0; y < motion->grid_height; y += 2) {
    for (uint32_t x = 0; x < motion->grid_width; x += 2) {
      size_t i = (size_t)y * motion->grid_width + x;
      if (!exposure_sample(motion, i)) continue;
      motion->samples[count].background = (uint8_t)motion->background[i];
      motion->samples[count].frame = (uint8_t)motion->frame[i];
      count++;
    }
  }
  return count;
}

/*
 * Fits frame = gain * background + offset over the samples, robustly. The samples are
 * split into a dark and a bright group by their background value (lower and upper
 * third), and the line runs through the (median background, median frame) point of
 * each group, like Tukey's resistant line. Objects that the previous frame's mask
 * missed move the medians little as long as they cover a minority of each group.
 * With too little spread between the groups, the fit is a gain through the origin
 * from the overall medians. Returns false when there are too few samples, leaving the
 * identity in gain and offset.
 *
 * NOTE: one fit serves the whole frame. When a lamp lights only part of the scene, the
 * fit follows the larger part and the rest becomes one large object until absorbed.
 */
DSX_HOT static bool estimate_exposure(dsx_motion *motion, float *gain, float *offset) {
  *gain = 1.0f;
  *offset = 0.0f;

  uint32_t count = collect_exposure_samples(motion);
  const exposure_sample_pair *samples = motion->samples;
  if ((float)count < EXPOSURE_MIN_FRACTION * (float)motion->sample_lattice_cells) {
    return false;
  }

  /* Where the thirds of the background values lie. */
  uint32_t background_counts[HISTOGRAM_BINS] = {0};
  for (uint32_t i = 0; i < count; i++) background_counts[samples[i].background]++;

  uint32_t dark_end = 0; /* first bin past the dark group */
  uint32_t bright_start = HISTOGRAM_BINS;
  uint64_t cumulative = 0;
  for (uint32_t bin = 0; bin < HISTOGRAM_BINS; bin++) {
    cumulative += background_counts[bin];
    if (dark_end == 0 && cumulative * 3 >= count) dark_end = bin + 1;
    if (bright_start == HISTOGRAM_BINS && cumulative * 3 >= (uint64_t)count * 2) {
      bright_start = bin + 1;
    }
  }

  static const value_histograms empty;
  value_histograms dark = empty, bright = empty, all = empty;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t b = samples[i].background;
    uint32_t f = samples[i].frame;
    all.count++;
    all.background[b]++;
    all.frame[f]++;
    value_histograms *group = NULL;
    if (b < dark_end) {
      group = &dark;
    } else if (b >= bright_start) {
      group = &bright;
    }
    if (group != NULL) {
      group->count++;
      group->background[b]++;
      group->frame[f]++;
    }
  }

  uint32_t min_group = count / 8;
  if (dark.count > min_group && bright.count > min_group) {
    float dark_background = histogram_median(dark.background, dark.count);
    float bright_background = histogram_median(bright.background, bright.count);
    if (bright_background - dark_background >= EXPOSURE_MIN_SPREAD) {
      float dark_frame = histogram_median(dark.frame, dark.count);
      float bright_frame = histogram_median(bright.frame, bright.count);
      *gain = (bright_frame - dark_frame) / (bright_background - dark_background);
      *offset = dark_frame - *gain * dark_background;
      return true;
    }
  }

  float all_background = histogram_median(all.background, all.count);
  float all_frame = histogram_median(all.frame, all.count);
  *gain = all_frame / all_background; /* all_background >= EXPOSURE_MIN_GRAY */
  return true;
}

static bool exposure_plausible(float gain, float offset) {
  return gain >= EXPOSURE_MIN_GAIN && gain <= EXPOSURE_MAX_GAIN &&
         fabsf(offset) <= EXPOSURE_MAX_OFFSET;
}

/* Restarts the model from the current frame, as on the first frame. */
static void reinitialize(dsx_motion *motion) {
  memcpy(motion->background, motion->frame, motion->cells * sizeof *motion->background);
  memcpy(motion->background_clipped, motion->frame_clipped,
         motion->cells * sizeof *motion->background_clipped);
  for (size_t i = 0; i < motion->cells; i++) motion->clip_level[i] = 255.0f;
  memset(motion->object_frames, 0, motion->cells * sizeof *motion->object_frames);
  memset(motion->ghost_frames, 0, motion->cells * sizeof *motion->ghost_frames);
  memset(motion->cell_state, CELL_FREE, motion->cells * sizeof *motion->cell_state);
}

/* --------------------------------------------------------------------------------- */
/* Steps 2 and 3: exposure update and threshold                                       */
/* --------------------------------------------------------------------------------- */

static float clamp_model_value(float value) {
  value = value < 0.0f ? 0.0f : value;
  return value > MODEL_MAX_GRAY ? MODEL_MAX_GRAY : value;
}

/*
 * The per-cell passes below work on whole chunks of VECTOR_CHUNK cells: the per-cell
 * arrays are padded to a multiple of it. A chunk function with restrict parameters and
 * a constant loop count is the form that GCC vectorizes at -O2. A loop that does more
 * (a select feeding an addition) stays scalar under the default -ftrapping-math, hence
 * several passes. What the passes compute for padding cells is never used.
 */

static void apply_exposure_chunk(float *restrict background, float *restrict clip_level,
                                 float gain, float offset) {
  for (size_t k = 0; k < VECTOR_CHUNK; k++) {
    background[k] = clamp_model_value(gain * background[k] + offset);
    clip_level[k] = clamp_model_value(gain * clip_level[k] + offset);
  }
}

/*
 * Writes the range of values that each cell's background can take in the current
 * frame. Pixels that were clipped at 255 in the background hide how bright they really
 * are. After the exposure drops, such a pixel reads anywhere from its clip_level (its
 * value if it was exactly 255) up to 255, so the range reaches above the background.
 * After the exposure rises it still reads 255, below its clip_level, so the range
 * reaches below. The background itself is not clipped at 255 because the lower end
 * needs the unclipped value; both ends are clipped to the frame's 0-255 instead.
 */
static void expected_range_chunk(const float *restrict background,
                                 const float *restrict clip_level,
                                 const float *restrict background_clipped,
                                 float *restrict expected_low, float *restrict expected_high) {
  for (size_t k = 0; k < VECTOR_CHUNK; k++) {
    float hidden = background_clipped[k] * (255.0f - clip_level[k]);
    float below = hidden < 0.0f ? hidden : 0.0f;
    float above = hidden > 0.0f ? hidden : 0.0f;
    float low = background[k] + below;
    float high = background[k] + above;
    expected_low[k] = low > 255.0f ? 255.0f : low;
    expected_high[k] = high > 255.0f ? 255.0f : high;
  }
}

/* Marks the cells that lie at least `threshold` outside their expected range and
 * returns how many there are.
 * NOTE: cast shadows pass this test like objects, so boxes include them. */
static uint32_t mark_changed_chunk(const float *restrict frame,
                                   const float *restrict expected_low,
                                   const float *restrict expected_high,
                                   uint8_t *restrict changed, float threshold) {
  uint32_t count = 0;
  for (size_t k = 0; k < VECTOR_CHUNK; k++) {
    uint8_t is_changed = (uint8_t)((frame[k] - expected_high[k] >= threshold) |
                                   (expected_low[k] - frame[k] >= threshold));
    changed[k] = is_changed;
    count += is_changed;
  }
  return count;
}

/* Applies the exposure fit to the background, writes the threshold result to
 * motion->mask and returns the number of changed cells. */
DSX_HOT static size_t threshold_frame(dsx_motion *motion, float gain, float offset) {
  size_t changed = 0;
  for (size_t i = 0; i < motion->padded_cells; i += VECTOR_CHUNK) {
    float expected_low[VECTOR_CHUNK], expected_high[VECTOR_CHUNK];
    apply_exposure_chunk(motion->background + i, motion->clip_level + i, gain, offset);
    expected_range_chunk(motion->background + i, motion->clip_level + i,
                         motion->background_clipped + i, expected_low, expected_high);
    changed += mark_changed_chunk(motion->frame + i, expected_low, expected_high,
                                  motion->mask + i, motion->threshold);
  }

  /* Padding cells are no part of the frame. */
  for (size_t i = motion->cells; i < motion->padded_cells; i++) {
    changed -= motion->mask[i];
    motion->mask[i] = 0;
  }
  return changed;
}

/* --------------------------------------------------------------------------------- */
/* Step 4: morphology                                                                 */
/* --------------------------------------------------------------------------------- */

typedef enum { MORPH_ERODE, MORPH_DILATE } morph_op;

/* Combines `count` mask bytes of `other` into `dst`: AND for erosion, OR for dilation. */
DSX_HOT static void combine_masks(morph_op op, uint8_t *restrict dst, const uint8_t *restrict other,
                          size_t count) {
  size_t i = 0;
  if (op == MORPH_ERODE) {
    for (; i + VECTOR_CHUNK <= count; i += VECTOR_CHUNK) {
      for (size_t k = 0; k < VECTOR_CHUNK; k++) dst[i + k] &= other[i + k];
    }
    for (; i < count; i++) dst[i] &= other[i];
  } else {
    for (; i + VECTOR_CHUNK <= count; i += VECTOR_CHUNK) {
      for (size_t k = 0; k < VECTOR_CHUNK; k++) dst[i + k] |= other[i + k];
    }
    for (; i < count; i++) dst[i] |= other[i];
  }
}

/*
 * Applies `op` to motion->mask in place. A square structuring element is separable, so
 * this is a horizontal pass into mask_scratch and a vertical pass back. Each pass ANDs
 * (erosion) or ORs (dilation) 2 * radius + 1 shifted copies of the mask. Cells outside
 * the grid are neutral (set for erosion, clear for dilation), so an object touching
 * the border keeps its border cells.
 */
DSX_HOT static void morph(dsx_motion *motion, morph_op op) {
  const uint32_t width = motion->grid_width;
  const uint32_t height = motion->grid_height;
  const uint32_t radius = motion->morph_radius;
  uint8_t *mask = motion->mask;
  uint8_t *scratch = motion->mask_scratch;

  memcpy(scratch, mask, motion->cells);
  for (uint32_t y = 0; y < height; y++) {
    uint8_t *out = scratch + (size_t)y * width;
    const uint8_t *in = mask + (size_t)y * width;
    for (uint32_t k = 1; k <= radius && k < width; k++) {
      combine_masks(op, out + k, in, width - k);
      combine_masks(op, out, in + k, width - k);
    }
  }

  memcpy(mask, scratch, motion->cells);
  for (uint32_t k = 1; k <= radius && k < height; k++) {
    size_t shift = (size_t)k * width;
    combine_masks(op, mask + shift, scratch, motion->cells - shift);
    combine_masks(op, mask, scratch + shift, motion->cells - shift);
  }
}

/* --------------------------------------------------------------------------------- */
/* Step 5: connected components                                                       */
/* --------------------------------------------------------------------------------- */

static uint32_t find_root(uint32_t *parent, uint32_t label) {
  uint32_t root = label;
  while (parent[root] != root) root = parent[root];
  while (parent[label] != root) {
    uint32_t next = parent[label];
    parent[label] = root;
    label = next;
  }
  return root;
}

/* Joins two label sets. The smaller label becomes the root, so every root is the
 * smallest label of its set and the result does not depend on the order of unions. */
static void union_labels(uint32_t *parent, uint32_t a, uint32_t b) {
  uint32_t root_a = find_root(parent, a);
  uint32_t root_b = find_root(parent, b);
  if (root_a < root_b) {
    parent[root_b] = root_a;
  } else if (root_b < root_a) {
    parent[root_a] = root_b;
  }
}

/* True when the 8 mask bytes from `mask` are all 0, so a scan can skip them at once. */
static bool eight_clear(const uint8_t *mask) {
  uint64_t word;
  memcpy(&word, mask, sizeof word);
  return word == 0;
}

/* Pass 1 of the labelling: provisional labels from the already visited neighbours W,
 * NW, N and NE, with their equivalences in motion->parent. Returns the next unused
 * label. */
static uint32_t assign_provisional_labels(dsx_motion *motion) {
  const uint32_t width = motion->grid_width;
  const uint8_t *mask = motion->mask;
  uint32_t *labels = motion->labels;
  uint32_t *parent = motion->parent;
  uint32_t next_label = 1;

  memset(labels, 0, motion->cells * sizeof *labels);
  for (uint32_t y = 0; y < motion->grid_height; y++) {
    size_t row = (size_t)y * width;
    for (uint32_t x = 0; x < width; x++) {
      size_t i = row + x;
      if (x + 8 <= width && eight_clear(mask + i)) {
        x += 7;
        continue;
      }
      if (!mask[i]) continue;

      uint32_t neighbours[4];
      uint32_t found = 0;
      if (x > 0 && labels[i - 1]) neighbours[found++] = labels[i - 1];
      if (y > 0) {
        size_t above = i - width;
        if (x > 0 && labels[above - 1]) neighbours[found++] = labels[above - 1];
        if (labels[above]) neighbours[found++] = labels[above];
        if (x + 1 < width && labels[above + 1]) neighbours[found++] = labels[above + 1];
      }

      if (found == 0) {
        parent[next_label] = next_label;
        labels[i] = next_label++;
        continue;
      }
      labels[i] = neighbours[0];
      for (uint32_t k = 1; k < found; k++) union_labels(parent, neighbours[0], neighbours[k]);
    }
  }
  return next_label;
}

/*
 * Adds the contrast between cell (x, y) of `comp` and each of its 4-neighbours outside
 * the mask to the component's frame_edge, and the same contrast in the background to
 * its background_edge.
 *
 * The two sums separate ghosts from objects. A real object shows its outline in the
 * frame, against background that the model also shows on both sides of the outline.
 * An object can be part of the model because it was in the first frame or stood still
 * until absorbed. When it leaves, the uncovered background differs from the model and
 * becomes foreground, but its outline is in the model, not in the frame.
 */
static void add_outline_contrast(const dsx_motion *motion, uint32_t x, uint32_t y,
                                 component *comp) {
  const uint32_t width = motion->grid_width;
  const size_t i = (size_t)y * width + x;
  const size_t neighbours[4] = {i - 1, i + 1, i - width, i + width};
  const bool inside_grid[4] = {x > 0, x + 1 < width, y > 0, y + 1 < motion->grid_height};
  const float inside_background = fminf(motion->background[i], 255.0f);

  for (uint32_t k = 0; k < 4; k++) {
    if (!inside_grid[k] || motion->mask[neighbours[k]]) continue;
    size_t n = neighbours[k];
    comp->frame_edge += fabsf(motion->frame[i] - motion->frame[n]);
    comp->background_edge += fabsf(inside_background - fminf(motion->background[n], 255.0f));
  }
}

/* Labels the 8-connected components of motion->mask and fills motion->components with
 * their boxes, areas and outline contrasts. Returns the number of components. */
static uint32_t label_components(dsx_motion *motion) {
  const uint32_t width = motion->grid_width;
  uint32_t *labels = motion->labels;
  uint32_t next_label = assign_provisional_labels(motion);

  /* Number the sets in label order. A root is the smallest label of its set, so it
   * gets its number before any other member looks it up. */
  uint32_t count = 0;
  for (uint32_t label = 1; label < next_label; label++) {
    uint32_t root = find_root(motion->parent, label);
    motion->label_component[label] = root == label ? count++ : motion->label_component[root];
  }

  for (uint32_t c = 0; c < count; c++) {
    component *comp = &motion->components[c];
    comp->x0 = UINT32_MAX;
    comp->y0 = UINT32_MAX;
    comp->x1 = 0;
    comp->y1 = 0;
    comp->area = 0;
    comp->frame_edge = 0.0f;
    comp->background_edge = 0.0f;
    comp->merged_into = c;
    comp->ghost = false;
  }

  /* Pass 2: final component per cell, boxes and areas. */
  for (uint32_t y = 0; y < motion->grid_height; y++) {
    size_t row = (size_t)y * width;
    uint32_t rows = cell_extent(y, motion->scale, motion->height);
    for (uint32_t x = 0; x < width; x++) {
      size_t i = row + x;
      if (x + 8 <= width && eight_clear(motion->mask + i)) {
        x += 7;
        continue;
      }
      if (labels[i] == 0) continue;
      uint32_t c = motion->label_component[labels[i]];
      labels[i] = c + 1;

      component *comp = &motion->components[c];
      if (x < comp->x0) comp->x0 = x;
      if (x > comp->x1) comp->x1 = x;
      if (y < comp->y0) comp->y0 = y;
      if (y > comp->y1) comp->y1 = y;
      comp->area += (uint64_t)cell_extent(x, motion->scale, motion->width) * rows;
      add_outline_contrast(motion, x, y, comp);
    }
  }
  return count;
}

/* --------------------------------------------------------------------------------- */
/* Steps 6 and 7: merging and selection                                               */
/* --------------------------------------------------------------------------------- */

/* True when the boxes overlap or the empty cells between them, horizontally and
 * vertically, are at most `gap`. */
static bool boxes_near(const component *a, const component *b, uint32_t gap) {
  uint32_t gap_x = 0, gap_y = 0;
  if (b->x0 > a->x1) gap_x = b->x0 - a->x1 - 1;
  if (a->x0 > b->x1) gap_x = a->x0 - b->x1 - 1;
  if (b->y0 > a->y1) gap_y = b->y0 - a->y1 - 1;
  if (a->y0 > b->y1) gap_y = a->y0 - b->y1 - 1;
  return gap_x <= gap && gap_y <= gap;
}

static bool component_alive(const component *comps, uint32_t c) {
  return comps[c].merged_into == c;
}

/* Merges near components until no two are near. The lower index absorbs the higher,
 * so the result depends only on the labelling order. A merged box can reach new
 * neighbours, hence the repeated passes. Each pass with a merge removes a component,
 * so the loop ends. The cost is quadratic in the number of components, which the
 * opening keeps small: each one covers at least (2 * morph_radius + 1)^2 cells. */
static void merge_components(dsx_motion *motion, uint32_t count) {
  component *comps = motion->components;
  bool merged = true;
  while (merged) {
    merged = false;
    for (uint32_t i = 0; i < count; i++) {
      if (!component_alive(comps, i)) continue;
      for (uint32_t j = i + 1; j < count; j++) {
        if (!component_alive(comps, j)) continue;
        if (!boxes_near(&comps[i], &comps[j], motion->merge_gap)) continue;

        if (comps[j].x0 < comps[i].x0) comps[i].x0 = comps[j].x0;
        if (comps[j].y0 < comps[i].y0) comps[i].y0 = comps[j].y0;
        if (comps[j].x1 > comps[i].x1) comps[i].x1 = comps[j].x1;
        if (comps[j].y1 > comps[i].y1) comps[i].y1 = comps[j].y1;
        comps[i].area += comps[j].area;
        comps[i].frame_edge += comps[j].frame_edge;
        comps[i].background_edge += comps[j].background_edge;
        comps[j].merged_into = i;
        merged = true;
      }
    }
  }

  /* Point every component at its final object. A component only merges into a lower
   * index, so that object's entry is final when the loop reaches it. */
  for (uint32_t c = 0; c < count; c++) {
    uint32_t into = comps[c].merged_into;
    if (into != c) comps[c].merged_into = comps[into].merged_into;
  }

  /* Ghosts are judged per object, not per fragment. A fragment of a person that covers
   * a bright table foot has the foot's outline, in the background only, like a ghost. */
  for (uint32_t c = 0; c < count; c++) {
    comps[c].ghost = comps[c].background_edge > GHOST_EDGE_RATIO * comps[c].frame_edge;
  }
}

/* True when component `c` is a final object that is reported. */
static bool object_accepted(const dsx_motion *motion, uint32_t c) {
  return component_alive(motion->components, c) &&
         motion->components[c].area >= motion->min_area;
}

static dsx_box component_box(const dsx_motion *motion, const component *comp) {
  uint32_t scale = motion->scale;
  uint32_t right = (comp->x1 + 1) * scale;
  uint32_t bottom = (comp->y1 + 1) * scale;
  if (right > motion->width) right = motion->width;
  if (bottom > motion->height) bottom = motion->height;

  dsx_box box;
  box.left = (float)(comp->x0 * scale);
  box.top = (float)(comp->y0 * scale);
  box.width = (float)(right - comp->x0 * scale);
  box.height = (float)(bottom - comp->y0 * scale);
  return box;
}

/* Orders boxes by area, largest first, then by top and left. Two reported boxes never
 * share top and left, because overlapping boxes are always merged. */
static int compare_boxes(const void *a, const void *b) {
  const dsx_box *box_a = a;
  const dsx_box *box_b = b;
  float area_a = box_a->width * box_a->height;
  float area_b = box_b->width * box_b->height;
  if (area_a != area_b) return area_a > area_b ? -1 : 1;
  if (box_a->top != box_b->top) return box_a->top < box_b->top ? -1 : 1;
  if (box_a->left != box_b->left) return box_a->left < box_b->left ? -1 : 1;
  return 0;
}

/* Writes the largest `max_boxes` reported objects to `boxes` and returns the number of
 * reported objects. */
static uint32_t collect_boxes(dsx_motion *motion, uint32_t count, dsx_box *boxes,
                              uint32_t max_boxes) {
  uint32_t accepted = 0;
  for (uint32_t c = 0; c < count; c++) {
    if (object_accepted(motion, c)) accepted++;
  }
  if (boxes == NULL || max_boxes == 0 || accepted == 0) return accepted;

  dsx_box *sorted = motion->sorted_boxes;
  uint32_t n = 0;
  for (uint32_t c = 0; c < count; c++) {
    if (object_accepted(motion, c)) sorted[n++] = component_box(motion, &motion->components[c]);
  }
  qsort(sorted, n, sizeof *sorted, compare_boxes);

  uint32_t written = n < max_boxes ? n : max_boxes;
  memcpy(boxes, sorted, written * sizeof *boxes);
  return accepted;
}

/* --------------------------------------------------------------------------------- */
/* Step 8: background update                                                          */
/* --------------------------------------------------------------------------------- */

/* Writes motion->cell_state: CELL_OBJECT or CELL_GHOST for cells of reported objects,
 * CELL_NEAR_OBJECT for the other cells in their boxes widened by freeze_margin,
 * CELL_FREE elsewhere. */
static void mark_object_cells(dsx_motion *motion, uint32_t count) {
  const uint32_t width = motion->grid_width, height = motion->grid_height;
  const uint32_t margin = motion->freeze_margin;
  memset(motion->cell_state, CELL_FREE, motion->cells);

  for (uint32_t c = 0; c < count; c++) {
    if (!object_accepted(motion, c)) continue;
    const component *comp = &motion->components[c];
    uint32_t x0 = comp->x0 >= margin ? comp->x0 - margin : 0;
    uint32_t y0 = comp->y0 >= margin ? comp->y0 - margin : 0;
    uint32_t x1 = comp->x1 + margin < width ? comp->x1 + margin : width - 1;
    uint32_t y1 = comp->y1 + margin < height ? comp->y1 + margin : height - 1;
    for (uint32_t y = y0; y <= y1; y++) {
      memset(motion->cell_state + (size_t)y * width + x0, CELL_NEAR_OBJECT, x1 - x0 + 1);
    }
  }

  for (size_t i = 0; i < motion->cells; i++) {
    if (i + 8 <= motion->cells && eight_clear(motion->mask + i)) {
      i += 7;
      continue;
    }
    uint32_t label = motion->labels[i];
    if (label == 0) continue;
    uint32_t object = motion->components[label - 1].merged_into;
    if (object_accepted(motion, object)) {
      motion->cell_state[i] = motion->components[object].ghost ? CELL_GHOST : CELL_OBJECT;
    }
  }
}

/* Adapts free cells to the frame, keeps the background of cells in and near objects,
 * and counts how long each cell has been inside an object and inside a ghost. */
static void update_background_chunk(float *restrict background,
                                    float *restrict background_clipped,
                                    float *restrict clip_level, uint32_t *restrict object_frames,
                                    uint32_t *restrict ghost_frames,
                                    const uint8_t *restrict cell_state,
                                    const float *restrict frame,
                                    const float *restrict frame_clipped, float rate) {
  for (size_t k = 0; k < VECTOR_CHUNK; k++) {
    uint32_t state = cell_state[k];
    float weight = state == CELL_FREE ? rate : 0.0f;
    background[k] += weight * (frame[k] - background[k]);
    background_clipped[k] += weight * (frame_clipped[k] - background_clipped[k]);
    /* The frame's clipped pixels read 255 now, so its clip level is 255. */
    clip_level[k] += weight * (255.0f - clip_level[k]);
    object_frames[k] = state >= CELL_OBJECT ? object_frames[k] + 1 : 0;
    ghost_frames[k] = state == CELL_GHOST ? ghost_frames[k] + 1 : 0;
  }
}

/* Absorbs the cells that have been inside an object for absorb_frames, or inside a
 * ghost for ghost_absorb_frames: their background becomes the current frame. Only
 * cells in the mask can qualify, since the counters restart outside it. */
static void absorb_cells(dsx_motion *motion) {
  for (size_t i = 0; i < motion->cells; i++) {
    if (i + 8 <= motion->cells && eight_clear(motion->mask + i)) {
      i += 7;
      continue;
    }
    if (motion->object_frames[i] < motion->absorb_frames &&
        motion->ghost_frames[i] < motion->ghost_absorb_frames) {
      continue;
    }
    motion->background[i] = motion->frame[i];
    motion->background_clipped[i] = motion->frame_clipped[i];
    motion->clip_level[i] = 255.0f;
    motion->object_frames[i] = 0;
    motion->ghost_frames[i] = 0;
  }
}

static void update_background(dsx_motion *motion, uint32_t count) {
  mark_object_cells(motion, count);
  for (size_t i = 0; i < motion->padded_cells; i += VECTOR_CHUNK) {
    update_background_chunk(motion->background + i, motion->background_clipped + i,
                            motion->clip_level + i, motion->object_frames + i,
                            motion->ghost_frames + i, motion->cell_state + i,
                            motion->frame + i, motion->frame_clipped + i,
                            motion->adapt_rate);
  }
  absorb_cells(motion);
}

/* --------------------------------------------------------------------------------- */
/* Public entry                                                                       */
/* --------------------------------------------------------------------------------- */

DSX_HOT uint32_t dsx_motion_process(dsx_motion *motion, const uint8_t *luma, uint32_t stride,
                            dsx_box *boxes, uint32_t max_boxes) {
  if (motion == NULL || luma == NULL || stride < motion->width) return 0;

  downsample(motion, luma, stride);
  motion->frames_seen++;
  if (motion->frames_seen == 1) {
    reinitialize(motion);
    return 0;
  }

  float gain, offset;
  if (estimate_exposure(motion, &gain, &offset) && !exposure_plausible(gain, offset)) {
    reinitialize(motion);
    return 0;
  }

  size_t changed = threshold_frame(motion, gain, offset);
  if ((float)changed > REINIT_FOREGROUND_FRACTION * (float)motion->cells) {
    reinitialize(motion);
    return 0;
  }

  morph(motion, MORPH_ERODE);
  morph(motion, MORPH_DILATE);
  morph(motion, MORPH_DILATE);
  morph(motion, MORPH_ERODE);

  uint32_t count = label_components(motion);
  merge_components(motion, count);
  uint32_t accepted = collect_boxes(motion, count, boxes, max_boxes);
  update_background(motion, count);
  return accepted;
}

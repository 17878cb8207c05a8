// Range calibration (issue 19, `planttwin calibrate`; H-02, H-05, PL-01; docs/recorded.md
// "Calibration"): from a recorded scenario's range log and truth log, a constant range offset per
// anchor and per tag (measured = true + anchor + tag + noise), robust to NLOS outliers; then the
// scenario run as it is and again with the offsets (site `range_offsets`), accuracy and per-anchor
// residual bias before and after, for the walk of the fit and for other walks with the same anchors.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/site.h"
#include "scenarios/recorded_log.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace planttwin {

// One TWR range against the truth: measured minus true distance, metres.
struct RangeResidual {
  int anchor = -1;  // index into the anchor ids given to fit_range_offsets (Site::anchors)
  int tag = -1;     // index into the tag ids (RecordedLog::tags)
  double e = 0;
};

struct CalibrationOptions {
  std::uint64_t min_ranges = 50;  // an anchor or tag with fewer ranges gets no offset (refused)
  double trim_k = 3;              // a group's inliers: within trim_k robust sigmas (1.4826 MAD) of its centre
  int max_iterations = 200;       // alternating passes (several tags)
  double tolerance_m = 1e-4;      // stop when no offset moves more than this in a pass (0.1 mm: as written)
};

struct OffsetEstimate {
  std::string id;
  std::uint64_t n = 0;     // ranges with truth
  std::uint64_t used = 0;  // of them inside the trim at the end (the rest: NLOS and other outliers)
  double offset = 0;       // metres
  double spread = 0;       // robust sigma (1.4826 MAD) of the residuals after the fit, metres
  bool estimated = false;  // false: refused, `why` says why
  std::string why;
};

struct RangeCalibration {
  std::vector<OffsetEstimate> anchors;  // every anchor given, in order
  std::vector<OffsetEstimate> tags;     // every tag given, in order
  bool tags_separable = false;          // two or more tags estimated: tag offsets (zero mean) beside the anchors'
  int iterations = 0;                   // alternating passes used
  std::uint64_t ranges = 0;             // residuals given
  std::uint64_t ranges_used = 0;        // of them between an estimated anchor and an estimated tag
  // The estimated offsets as a site's range_offsets (refused anchors and tags left out; with one
  // tag, no tag offsets: it is folded into the anchors').
  RangeOffsets offsets() const;
};

// Robust location of a sample: the median, then the mean of the values within trim_k robust sigmas
// of the centre, re-centred three times. `used` and `sigma` (1.4826 MAD about the median) returned.
double robust_location(std::vector<double> v, double trim_k, std::uint64_t* used = nullptr, double* sigma = nullptr);

// The fit. One tag (or one estimated): per anchor, the robust location of its residuals (the tag's
// offset is folded into every anchor's: not separable). Several tags: alternating robust
// locations, anchors given the tags, tags given the anchors, the tags' offsets held at zero mean
// (their common part goes into the anchors'), until no offset moves more than tolerance_m.
RangeCalibration fit_range_offsets(const std::vector<std::string>& anchor_ids, const std::vector<std::string>& tag_ids,
                                   const std::vector<RangeResidual>& residuals, const CalibrationOptions& opt = {});

// The raw residuals (before any range_offsets) of a recorded scenario's TWR ranges against its truth
// log, the truth interpolated at each range's own time; ranges outside the truth's span are skipped.
// With `tag_height`, the truth's z is replaced by it (site frame, metres): for truth logs whose z is
// not the tag's (an RTK antenna, a ground-referenced frame), or to fit the offsets to the height the
// solver assumes in 2D.
std::vector<RangeResidual> range_residuals(const Scenario& sc, const RecordedLog& log,
                                           std::optional<double> tag_height = std::nullopt);

// A recorded scenario run as it is and with given offsets (replacing its site's range_offsets;
// offsets for anchors its site lacks are dropped and listed). The simulated twin is not run.
struct CalibrationCheck {
  std::string scenario, file;
  bool fit = false;  // the scenario the offsets were fitted on (else: a validation on another log)
  std::vector<std::string> unused;  // offset anchors this site lacks
  RunResult before, after;
};
bool check_offsets(const Scenario& sc, const RangeOffsets& offsets, CalibrationCheck& out, std::string& error);

// calibration.json and calibration.md (Chinese and English headings).
struct CalibrationReport {
  std::string scenario, file;
  CalibrationOptions options;
  std::optional<double> tag_height;  // residuals against the truth at this height instead of its z
  double truth_z_median = 0;         // the truth log's own heights, for the reader
  RangeCalibration fit;
  std::string offsets_file, site_line;  // where the offsets went; the line the site needs
  std::vector<CalibrationCheck> checks;  // the fit's scenario first
};
nlohmann::ordered_json calibration_json(const CalibrationReport& r);
std::string calibration_markdown(const CalibrationReport& r);
// The offsets file: comments saying where they came from, then {anchors, tags}.
std::string offsets_yaml(const CalibrationReport& r);

}  // namespace planttwin

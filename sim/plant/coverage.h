// Anchor and camera coverage of a site's high-risk places (PL-08, SO-08): what `planttwin check`
// computes. See docs/check.md for the rules and their sources.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/site.h"
#include "sim/plant/camera_visibility.h"
#include "sim/plant/plant_model.h"

namespace planttwin {

struct CoverageOptions {
  double cell_m = 1;            // sample spacing over each area. Default: 1 m
  int min_anchors = 4;          // anchors in line of sight needed for a fix. Default: 4
  double link_range_m = 50;     // tag-anchor link range. Default: 50 m (docs/check.md)
  double min_share = 0.95;      // share of each area that must be covered. Default: 0.95
  double range_sigma_m = 0.1;   // LOS ranging error for the accuracy estimate. Default: 0.1 m
  double tag_height_m = 1.2;    // tag above the floor surface (sim/motion.h). Default: 1.2 m
  CameraGridOptions camera;     // spot height 1.0 m, glass transparent
  // Whether the tag hears an anchor (its index in the site) that is not in line of sight: through
  // penetrable solids or around opaque ones (`check --links radio`: the radio model's first paths,
  // sim/radio/first_path.h). Empty: line of sight only (the default). Called from the worker
  // threads at once: must be thread-safe.
  std::function<bool(const Vec3& tag, int anchor)> heard;
};

// A high-risk zone: risk red or orange, or kind high_risk or major_hazard.
bool is_high_risk(const Zone& z);

// A permit's work area from a scenario script (SO-08).
struct WorkArea {
  std::string id, type, action;  // permit id, work type, "apply" or "reserve"
  Polygon area;
  std::string floor;             // "" : the ground floor
};

// One sample spot of an area: a cell centre inside the outline, on one floor.
struct CoverageSample {
  double x = 0, y = 0;
  int floor = 0;            // index into AreaCoverage::floors
  int anchors = 0;          // anchors in range and in line of sight of the tag (or heard: CoverageOptions::heard)
  bool covered = false;     // anchors >= min_anchors and a solvable geometry
  double accuracy_m = -1;   // HDOP x range sigma, -1 where not covered
  int cameras = 0;          // cameras that see the spot
};

struct AreaCoverage {
  std::string id, name, kind, risk;  // zone, or permit id / type ("" name) for a work area
  std::vector<std::string> floors;   // sampled floors
  std::vector<Vec2> outline;         // the polygon, metres
  double area_m2 = 0;                // outline area (one floor)
  std::vector<CoverageSample> samples;
  double anchor_share = 0;           // covered samples / samples
  double accuracy_median_m = -1, accuracy_worst_m = -1;  // over covered samples; -1 when none
  double camera_share = 0;           // samples seen by >= 1 camera / samples
  struct CameraShare {
    std::string id;
    double share = 0;                // samples this camera sees / samples
  };
  std::vector<CameraShare> cameras;  // cameras that see some of it, site order
  bool anchors_ok = false;           // anchor_share >= min_share
  bool cameras_ok = false;           // camera_share >= min_share
};

struct CoverageReport {
  CoverageOptions options;
  std::vector<AreaCoverage> zones;       // the high-risk zones, site order
  std::vector<AreaCoverage> work_areas;  // in script order
  bool pass = false;                     // every zone anchors_ok and every work area cameras_ok
};

// The floors an area is sampled on: the zone's floors; for a height band, the floors whose tag
// height (surface + tag height) lies in the band; otherwise the site's first (ground) floor.
// On a floor that only buildings have, only spots inside those buildings count.
std::vector<std::string> coverage_floors(const Site& site, const Zone& z, double tag_height_m);

CoverageReport check_coverage(const Site& site, const PlantModel& model, const std::vector<WorkArea>& work_areas,
                              const CoverageOptions& opt, int threads = 1);

// The map: zones coloured by anchor coverage, sample cells not covered, anchors, cameras with their
// field of view, buildings, obstacles, work areas. Bilingual legend in the SVG. Returns "" or an error.
std::string write_coverage_svg(const Site& site, const CoverageReport& report, const std::string& path);
std::string write_coverage_png(const Site& site, const CoverageReport& report, const std::string& path,
                               double px_per_m = 2);

}  // namespace planttwin

// The site model (plant): plain data, constant during a run. Filled by the loader
// (scenarios/loader.h) from a site-v1 file; every field states its unit and default.
//
// Thread-safety: plain data, constant during a run, shared const by the engines of a site.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/geometry.h"
#include "engine/time.h"

namespace planttwin {

// One level: an outdoor height band or a building storey. Floor ids are global to the site.
struct Floor {
  std::string id;
  double z0 = -1, z1 = 4;  // metres
};

struct Material {
  double attenuation_db = 0;
  double nlos_bias_m = 0;
};

struct Building {
  std::string id;
  Polygon footprint;
  std::vector<Floor> floors;
  std::string wall_material = "concrete";
  double wall_thickness = 0.24;  // metres
};

// A triangle mesh read from a model file (site-v1 `mesh:`, read by scenarios/mesh/), already placed
// in the site's frame (scale, then yaw about z, then `at`). Plain triangles: the engine never
// reads them; the simulator puts them into the plant's BVH and the viewer draws them.
struct ObstacleMesh {
  std::string file;    // as the site file writes it
  std::string path;    // resolved against the site file's folder
  std::string sha256;  // of the model file's bytes, lower-case hex
  std::vector<std::string> files;  // every file read for the model (the model, then e.g. .bin, .mtl), as opened
  std::vector<std::array<double, 3>> vertices;  // site frame, metres
  std::vector<std::array<int, 3>> triangles;    // indices into vertices
  std::vector<Vec2> outline;                     // plan view: the convex hull of the vertices, counter-clockwise
  // Every edge is shared by exactly two triangles in opposite directions (watertight, consistently
  // wound; turned outward when the file wound it inward): the ray cast measures the length inside.
  // An open mesh is a set of surfaces: each one crossed counts as a thin sheet (docs/plant.md).
  bool closed = false;
};

struct Obstacle {
  enum class Shape { box, cylinder, mesh };
  std::string id;
  Shape shape = Shape::box;
  double min[3] = {0, 0, 0}, max[3] = {0, 0, 0};  // box corners, metres; mesh: its bounding box in the site frame
  Vec2 center;                                     // cylinder axis
  double radius = 0;                               // cylinder, metres
  double z0 = 0, z1 = 0;                           // cylinder height band, metres
  std::string material = "steel";
  std::shared_ptr<const ObstacleMesh> mesh;        // mesh only (immutable, shared by copies of the site)
};

enum class ZoneKind { production, storage, loading, high_risk, major_hazard, office, gate, other };
enum class Risk { none, red, orange, yellow, blue };
enum class Category { employee, contractor, visitor, driver };
constexpr int kCategoryCount = 4;

const char* to_string(ZoneKind k);
const char* to_string(Risk r);
const char* to_string(Category c);
// AQ 3064.3 person type code: employee 01, contractor 02, visitor and driver 03.
const char* aq3_code(Category c);

// When a fence is active. days: bit i = weekday i (0 = Monday); the calendar flags below widen it.
struct ScheduleWindow {
  std::uint8_t days = 0x7f;
  bool on_workdays = false;   // `workdays` token: active on every working day of the calendar
  bool on_rest_days = false;  // `rest_days` token: active on rest days and holidays
  int from_min = 0, to_min = 1440;  // local minutes of day; from > to spans midnight
};

struct Authorization {
  bool present = false;  // absent: everyone may enter
  std::vector<std::string> people, roles;
  std::vector<Category> categories;
};

struct Zone {
  std::string id, name;
  ZoneKind kind = ZoneKind::other;
  Polygon polygon;
  std::vector<std::string> floors;       // empty and no z band: every floor
  std::optional<std::pair<double, double>> z;  // height band, metres
  Risk risk = Risk::none;
  std::optional<int> capacity;   // more people than this -> over_capacity
  std::optional<int> min_staff;  // fewer than this while active -> under_staffing
  Authorization authorized;
  bool stay_inside = false;
  std::vector<ScheduleWindow> schedule;  // empty: always active
  std::optional<Micros> stationary_after;
  std::optional<Micros> overstay_after;
  bool permit_required = false;
  bool explosion_hazard = false;
  int line = 0;  // source line, for messages
};

struct Anchor {
  std::string id;
  double at[3] = {0, 0, 0};
};

struct Camera {
  std::string id;
  double at[3] = {0, 0, 0};
  double yaw_deg = 0, pitch_deg = 0, hfov_deg = 90, vfov_deg = 60, range = 50;
};

struct SurveyPoint {
  std::string id;
  double at[3] = {0, 0, 0};
  std::string floor;  // empty: the floor at that height
};

// Rule settings (site-v1 "rules"); a scenario's `rules` override them key by key.
struct GatheringRules {
  double radius = 15;            // metres
  Micros dwell = 60 * kSecond;   // a tier is reached when held for more than this
  int yellow = 3, orange = 4, red = 7;  // fewest people per tier
  Risk confirm_close_from = Risk::orange;  // from this level a person must confirm dispersal to close
  Micros clear_after = 5 * kSecond;  // a raised gathering clears once broken for more than this
  // How old a person's latest fix may be for them to count. 0 (default): younger than the interval
  // between their last two fixes, i.e. one missing fix drops them (exact for regular reports).
  // Positioning with irregular report times (ALOHA / TDoA blinks, live hardware) sets a bound.
  Micros fix_max_age = 0;
  // How often the rule runs. 0 (default): at every step. Else at the first step at or after each
  // multiple of it (the engine ticks at every multiple of rules.evaluate_every, so with 1 s: once a
  // second, whatever else arrives). A live session at 5,000 people to a km2 steps about a hundred
  // times a second, and the finder looks at everyone each time (docs/engine.md "Gathering").
  Micros every = 0;
};

struct Rules {
  GatheringRules gathering;
  double stationary_radius = 1;             // metres
  Micros stationary_after = 300 * kSecond;  // everywhere; a zone's stationary_after overrides it
  Micros crossing_escalate_after = 30 * kSecond;
  double crossing_exit_margin = 1;  // metres outside the outline before a person counts as left
  Micros crossing_delay = 0;        // entry delay before boundary_crossing is raised (<= 5 s)
  Micros capacity_delay = 0;        // entry delay before over_capacity is raised
  double linkage_on_site_radius = 20, linkage_guardian_margin = 5;  // metres
  Micros linkage_grace = 3 * kSecond;
  Micros tag_offline_after = 30 * kSecond;
  double low_battery = 0.2;  // 0..1
  Micros untagged_after = 60 * kSecond;
  Micros ack_within = 60 * kSecond;
  std::vector<std::string> work_roles;  // empty: every contractor counts as working
  Micros work_without_permit_after = 120 * kSecond;
  Micros evaluate_every = kSecond;  // time-driven rules run at least this often
  // Special work (issue 3 gives these meaning; loaded and kept now).
  // type -> grade ("" for ungraded) -> duration
  std::map<std::string, std::map<std::string, Micros>> validity;
  std::map<std::string, std::map<std::string, Micros>> pause_reanalysis;
  // type -> role ("workers", "guardian") -> certificate type; key "guardian" at top level: type ""
  std::map<std::string, std::map<std::string, std::string>> certificates;
  // type -> grade ("" for every grade) -> roles that must approve, in order
  std::map<std::string, std::map<std::string, std::vector<std::string>>> approval;
  struct Gas {
    Micros max_age = 30 * kMinute;
    double flammable_volpct_low_lel = 0.2, flammable_volpct = 0.5;
    double o2_min = 19.5, o2_max = 21.0;
    Micros record_every = 2 * kHour;  // confined space: a gas record at least this often (code 05)
    std::map<std::string, double> toxic;  // substance -> ppm limit
  } gas;

  static Rules defaults();  // the defaults of site-v1, with validity and the tables filled
};

struct Calendar {
  std::vector<std::int64_t> holidays, workdays;  // local day numbers (days since 1970-01-01)
  std::uint8_t rest_days = (1 << 5) | (1 << 6);  // bit per weekday, Monday = 0; default sat, sun
  int night_from_min = 20 * 60, night_to_min = 6 * 60;
  std::vector<std::pair<std::int64_t, std::int64_t>> special_periods;  // [from, to] Unix seconds

  bool is_holiday(std::int64_t day) const;
  bool is_workday(std::int64_t day, int weekday) const;  // not a holiday; make-up day or not a rest day
  bool is_night(int minute_of_day) const;
};

// Constant range offsets per anchor and per tag (site-v1 `range_offsets`, written by `planttwin
// calibrate`; docs/recorded.md "Calibration"): a TWR range measures true + anchor + tag offset, and
// the solver subtracts both. Metres, |offset| <= 5.
struct RangeOffsets {
  std::map<std::string, double> anchors;  // anchor id -> offset
  std::map<std::string, double> tags;     // tag id -> offset (ids are not checked: the site has no tags)
  std::string file;                       // the YAML file they were read from; "" when inline
  bool empty() const { return anchors.empty() && tags.empty(); }
};

struct Site {
  std::string name;
  std::string file;  // path it was loaded from ("" when inline)
  std::optional<std::array<double, 3>> origin;  // lat, lon, alt
  std::optional<Polygon> bounds;
  int timezone_min = 8 * 60;
  std::vector<Floor> floors;  // outdoor bands; default {1, [-1, 4]}
  std::vector<Building> buildings;
  std::vector<Obstacle> obstacles;
  std::map<std::string, Material> materials;
  std::vector<Zone> zones;
  std::vector<Anchor> anchors;
  std::vector<Camera> cameras;
  std::vector<SurveyPoint> survey_points;
  Rules rules = Rules::defaults();
  Calendar calendar;
  RangeOffsets range_offsets;  // none by default

  // every floor id defined by the site or a building, in first-seen order
  std::vector<std::string> floor_ids() const;
  bool has_floor(const std::string& id) const;
  // the band of a floor id (outdoor first, then buildings); nullptr when unknown
  const Floor* find_floor(const std::string& id) const;
};

bool schedule_active(const std::vector<ScheduleWindow>& schedule, const Calendar& cal, const LocalTime& lt);

}  // namespace planttwin

// A scenario (scenario-v1) as loaded: the site, people, script and expectations, with every
// override already applied (site rules and calendar, then the scenario's on top).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/inputs.h"
#include "engine/site.h"
#include "engine/time.h"

namespace planttwin {

struct Point3 {
  double x = 0, y = 0;
  std::optional<double> z;  // absent: the person's tag height above the floor
};

struct CertificateDef {
  std::string type, number;
  std::int64_t expires_day = 0;  // local day number
  std::string holder;            // name on the certificate; defaults to the person's name
};

struct PersonDef {
  std::string id, name;
  Category category = Category::employee;
  std::vector<std::string> roles;
  std::string company;
  std::optional<std::string> tag;
  Point3 at;
  std::string floor = "1";
  std::vector<CertificateDef> certificates;
  int line = 0;
};

struct ScriptAction {
  enum class Kind { go_to, walk, place, sos, tag_off, tag_on, battery, gate, permit, alarm };
  Kind kind = Kind::place;
  Micros t = 0;
  int line = 0;
  std::vector<std::string> who;  // person ids (person actions)
  std::vector<Point3> path;      // go_to: 1 point; walk: the polyline; place: 1 point
  std::optional<std::string> floor;
  double speed = 1.2;    // m/s
  double battery = 1.0;  // 0..1
  bool gate_in = true;
  std::string gate_id;
  PermitCommand permit;
  AlarmAction alarm;
};

struct Expectation {
  enum class Kind {
    alarm, no_alarm, refused, permit_status, zone_count, camera_call, accuracy, alarm_quality, alarm_delay,
    radio_link  // planttwin addition: one tag-anchor link's range error (simulated positioning)
  };
  Kind kind = Kind::alarm;
  int line = 0;
  std::string req;  // requirement ID, "" when none
  // alarm / no_alarm
  AlarmType type = AlarmType::gathering;
  std::optional<AlarmLevel> level;
  std::optional<Aq2Code> code;
  std::optional<std::string> who, zone, permit;
  std::string event = "raised";
  std::optional<std::pair<Micros, Micros>> window;  // between (alarm) or during (no_alarm)
  std::optional<int> count;
  // refused (permit + action + code), permit_status (permit + status + at)
  std::string action, status;
  Micros at = 0;
  // zone_count (zone + expected_count + at)
  int expected_count = 0;
  // camera_call (type + camera)
  std::string camera;
  // accuracy, alarm_quality, alarm_delay
  std::optional<double> cdf68_max, cdf95_max, missed_max, false_max, p95_max;
  // accuracy, further bounds (horizontal, metres): median, RMSE, largest error; the share of epochs
  // with a fix (recorded runs); the simulated twin's CDF68 within this fraction of the measured one
  std::optional<double> median_max, rmse_max, max_max, fix_share_min, twin_cdf68_within;
  std::optional<std::uint64_t> fixes_min;  // recorded runs: at least this many fixes in the evaluation window
  // radio_link (tag + anchor + bounds, metres; nlos_share and dropped_share 0..1)
  std::string tag, anchor;
  std::optional<std::pair<double, double>> median, p95, nlos_share, dropped_share;
  std::string text;  // the expectation as written, one line, for reports
};

struct Positioning {
  enum class Mode { truth, simulated, recorded };
  Mode mode = Mode::truth;
  double noise_sigma = 0;  // metres, truth mode: Gaussian noise on each axis
};

struct Scenario;

// `positioning: recorded` (docs/recorded.md): the logs, how ranges group into epochs, the window
// the accuracy is computed over, and the simulated twin to report beside the measured accuracy.
struct RecordedSource {
  std::string ranges, tdoa, truth;      // paths resolved against the scenario's folder; "" none
  Micros epoch = 50 * kMillisecond;     // a tag's ranges within this of the epoch's first: one epoch
  // an epoch that hears fewer anchors than the solver needs borrows each missing anchor's latest
  // range of that tag when it is at most this old (loggers drop ranges; 0: never)
  Micros hold = 150 * kMillisecond;
  std::optional<std::pair<Micros, Micros>> evaluate;  // accuracy over epochs in [from, to]; all when absent
  std::string twin;                     // a `positioning: simulated` scenario's path; "" none
  std::shared_ptr<const Scenario> twin_scenario;  // loaded with this scenario
};

struct DutyShift {
  std::string person;
  Micros from = 0, to = 0;
};

struct DrillTargets {
  std::optional<Micros> ack, handle;
};

struct Scenario {
  std::string name, description;
  std::string file;  // path as given
  std::vector<std::string> requirements;
  Site site;         // with the scenario's rules and calendar overrides applied
  WallClock clock;   // start; utc offset of `start`
  Micros duration = 0;
  std::uint64_t seed = 1;
  Positioning positioning;
  RecordedSource recorded;  // positioning: recorded only
  double fix_rate = 1;  // fixes per second per tag
  std::map<std::string, std::string> radio;  // simulated mode overrides, flattened "a.b" -> scalar
                                             // (keys checked by the loader: sim/radio/radio.h)
  std::vector<DutyShift> duty;
  DrillTargets drill;
  std::vector<PersonDef> people;
  std::vector<ScriptAction> script;  // in file order
  std::vector<Expectation> expect;   // in file order
  std::string scenario_sha256, site_sha256;  // of the files as read ("" for an inline site)
};

}  // namespace planttwin

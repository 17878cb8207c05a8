// Loaders for site-v1 and scenario-v1 (docs/site-v1.md, docs/scenario-v1.md).
//
// Every value is read from its scalar text as written (never yaml-cpp's as<bool>, which would turn
// `tag: off` into false), and every error names the file, the 1-based line of the offending node
// (or of the parent mapping when a key is missing) and the dotted key path. Internally a failure
// unwinds as an exception and is turned into a LoadError at the public entry points.
#include "scenarios/loader.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include "engine/permit_vocabulary.h"
#include "scenarios/mesh/mesh_file.h"
#include "scenarios/mesh_cache.h"
#include "sim/radio/radio.h"

namespace planttwin {

std::string LoadError::to_string() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!key.empty()) s += key + ": ";
  s += message;
  return s;
}

namespace {
std::string hex_of(const unsigned char* md, unsigned int len) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}
}  // namespace

std::string sha256_hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  return hex_of(md, len);
}

std::string sha256_file_hex(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return "";
  std::string block(1 << 20, '\0');
  while (f) {
    f.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto n = static_cast<std::size_t>(f.gcount());
    if (n > 0 && EVP_DigestUpdate(ctx.get(), block.data(), n) != 1) return "";
  }
  if (f.bad()) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) return "";
  return hex_of(md, len);
}

namespace {

// ---------------------------------------------------------------------------------------------
// vocabularies

// permit commands: engine/permit_vocabulary.h (shared with the live decoder)
const std::vector<std::string>& kPermitTypes = permit_vocabulary::types();
const std::vector<std::string>& kGrades = permit_vocabulary::grades();
const std::vector<std::string>& kPermitActions = permit_vocabulary::actions();
const std::vector<std::string> kPermitStatuses = {"reserved", "approved",    "rejected", "applied",
                                                  "signed",   "in_progress", "paused",   "accepted",
                                                  "void",     "revoked",     "expired"};
// alarm types, levels and AQ 3064.2 codes: engine/vocabulary.h, the one table of their names
const std::vector<std::string> kAlarmTypes = [] {
  std::vector<std::string> v;
  for (AlarmType t : all_alarm_types()) v.emplace_back(to_string(t));
  return v;
}();
const std::vector<std::string> kAlarmEvents = {"raised", "escalated", "cleared", "acknowledged", "handled", "closed"};
const std::vector<std::string> kAlarmLevels = {to_string(AlarmLevel::blue), to_string(AlarmLevel::yellow),
                                               to_string(AlarmLevel::orange), to_string(AlarmLevel::red)};
// AQ 3064.2 codes the special-work rules use (scenario-v1 "Special work").
const std::vector<std::string> kCodes = [] {
  std::vector<std::string> v;
  for (const Aq2CodeInfo& c : aq2_alarm_codes()) v.emplace_back(c.text);
  return v;
}();
// site-v1's five, then the radio model's extra materials for furniture and calibration (docs/radio.md)
const std::vector<std::string> kMaterials = {"concrete", "steel", "brick", "glass",    "wood",
                                             "metal",    "plastic", "cardboard", "foam"};
const std::vector<std::string> kWeekdays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v, std::size_t max_items = 40) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < max_items; ++i) {
    if (i) s += ", ";
    s += v[i];
  }
  if (v.size() > max_items) s += ", ...";
  return s;
}

std::string secs(Micros t) {
  std::ostringstream os;
  os << to_seconds(t) << " s";
  return os.str();
}

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string item(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

int mark_line(const YAML::Node& n, int fallback) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? m.line + 1 : fallback;
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      std::string s = n.Scalar();
      if (s.size() > 60) s = s.substr(0, 57) + "...";
      return "'" + s + "'";
    }
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

// a YAML node with the dotted path and line used in messages
struct V {
  YAML::Node node;
  std::string path;
  int line = 0;
};

struct Failure {
  LoadError error;
};

bool parse_number(const std::string& raw, double& out) {
  std::string_view s = raw;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_integer(const std::string& raw, long long& out) {
  std::string_view s = raw;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_bool(const std::string& s, bool& out) {
  static const std::vector<std::string> yes = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const std::vector<std::string> no = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  if (contains(yes, s)) return out = true, true;
  if (contains(no, s)) return out = false, true;
  return false;
}

const char* kDurationHelp = "a duration (a number of seconds, or like 250ms, 90s, 5min, 2h, 1d)";

// ---------------------------------------------------------------------------------------------
// Reader: one file's messages; every parse step is a method so that errors carry the file.

class Reader;

// A mapping with its keys checked: unknown and duplicate keys fail at the key's line.
class Map {
 public:
  struct Entry {
    std::string key;
    int key_line = 0;
    V value;
  };
  // allowed == nullptr: any key
  Map(const Reader& r, const V& v, const std::vector<std::string>* allowed);

  const V* get(const std::string& key) const {
    for (const Entry& e : entries_)
      if (e.key == key) return &e.value;
    return nullptr;
  }
  const V& req(const std::string& key) const;
  const Entry* entry(const std::string& key) const {
    for (const Entry& e : entries_)
      if (e.key == key) return &e;
    return nullptr;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const V& self() const { return self_; }

 private:
  const Reader& r_;
  V self_;
  std::vector<Entry> entries_;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

  [[noreturn]] void fail(int line, const std::string& key, const std::string& msg) const {
    throw Failure{LoadError{file_, line, key, msg}};
  }
  [[noreturn]] void fail(const V& v, const std::string& msg) const { fail(v.line, v.path, msg); }

  Map map(const V& v, const std::vector<std::string>& allowed) const { return Map(*this, v, &allowed); }
  Map free_map(const V& v) const { return Map(*this, v, nullptr); }

  // list elements; null counts as an empty list
  std::vector<V> seq(const V& v, const char* what = "a list") const {
    std::vector<V> out;
    if (v.node.IsNull()) return out;
    if (!v.node.IsSequence()) fail(v, std::string("expected ") + what + ", found " + describe(v.node));
    std::size_t i = 0;
    for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i) {
      const YAML::Node n = *it;
      out.push_back(V{n, item(v.path, i), mark_line(n, v.line)});
    }
    return out;
  }

  std::string text(const V& v, const char* what = "a text value") const {
    if (!v.node.IsScalar()) fail(v, std::string("expected ") + what + ", found " + describe(v.node));
    return v.node.Scalar();
  }
  std::string nonempty_text(const V& v, const char* what = "a text value") const {
    std::string s = text(v, what);
    if (s.empty()) fail(v, std::string("expected ") + what + ", found an empty text");
    return s;
  }
  std::vector<std::string> strings(const V& v, const char* what = "a list of text values") const {
    std::vector<std::string> out;
    for (const V& e : seq(v, what)) out.push_back(text(e));
    return out;
  }
  std::string one_of(const V& v, const std::vector<std::string>& allowed, const char* what) const {
    const std::string s = v.node.IsScalar() ? v.node.Scalar() : std::string();
    if (!v.node.IsScalar() || !contains(allowed, s))
      fail(v, std::string("unknown ") + what + " " + describe(v.node) + " (expected one of: " + join(allowed) + ")");
    return s;
  }

  double number(const V& v) const {
    double x = 0;
    if (!v.node.IsScalar() || !parse_number(v.node.Scalar(), x))
      fail(v, "expected a number, found " + describe(v.node));
    if (!std::isfinite(x)) fail(v, "expected a finite number, found " + describe(v.node));
    return x;
  }
  double positive(const V& v) const {
    const double x = number(v);
    if (!(x > 0)) fail(v, "expected a number > 0, found " + describe(v.node));
    return x;
  }
  double nonneg(const V& v) const {
    const double x = number(v);
    if (x < 0) fail(v, "expected a number >= 0, found " + describe(v.node));
    return x;
  }
  double in_range(const V& v, double lo, double hi) const {
    const double x = number(v);
    if (x < lo || x > hi) {
      std::ostringstream os;
      os << "expected a number from " << lo << " to " << hi << ", found " << describe(v.node);
      fail(v, os.str());
    }
    return x;
  }
  long long integer(const V& v) const {
    long long x = 0;
    if (!v.node.IsScalar() || !parse_integer(v.node.Scalar(), x))
      fail(v, "expected a whole number, found " + describe(v.node));
    return x;
  }
  int count(const V& v) const {
    const long long x = integer(v);
    if (x < 0 || x > 1000000000) fail(v, "expected a whole number >= 0, found " + describe(v.node));
    return static_cast<int>(x);
  }
  bool boolean(const V& v) const {
    bool b = false;
    if (!v.node.IsScalar() || !parse_bool(v.node.Scalar(), b))
      fail(v, "expected true or false, found " + describe(v.node));
    return b;
  }
  Micros duration(const V& v) const {
    Micros d = 0;
    if (!v.node.IsScalar() || !parse_duration(v.node.Scalar(), d))
      fail(v, std::string("bad duration: expected ") + kDurationHelp + ", found " + describe(v.node));
    return d;
  }
  Micros positive_duration(const V& v) const {
    const Micros d = duration(v);
    if (d <= 0) fail(v, std::string("expected a duration > 0, found ") + describe(v.node));
    return d;
  }
  int clock(const V& v) const {
    int m = 0;
    if (!v.node.IsScalar() || !parse_clock(v.node.Scalar(), m))
      fail(v, "expected a local time of day \"HH:MM\", found " + describe(v.node));
    return m;
  }
  std::int64_t date(const V& v) const {
    std::int64_t d = 0;
    if (!v.node.IsScalar() || !parse_date(v.node.Scalar(), d))
      fail(v, "expected a date YYYY-MM-DD, found " + describe(v.node));
    return d;
  }

  std::vector<double> numbers(const V& v, std::size_t lo, std::size_t hi, const char* what) const {
    if (!v.node.IsSequence() || v.node.size() < lo || v.node.size() > hi)
      fail(v, std::string("expected ") + what + ", found " + describe(v.node) +
                  (v.node.IsSequence() ? " of " + std::to_string(v.node.size()) + " values" : std::string()));
    std::vector<double> out;
    for (const V& e : seq(v)) out.push_back(number(e));
    return out;
  }
  Point3 point(const V& v) const {
    const std::vector<double> xs = numbers(v, 2, 3, "a point [x, y] or [x, y, z]");
    Point3 p;
    p.x = xs[0];
    p.y = xs[1];
    if (xs.size() == 3) p.z = xs[2];
    return p;
  }
  void point3(const V& v, double out[3]) const {
    const Point3 p = point(v);
    out[0] = p.x;
    out[1] = p.y;
    out[2] = p.z.value_or(0.0);
  }
  std::vector<Vec2> outline(const V& v) const {
    if (!v.node.IsSequence()) fail(v, "expected a polygon (a list of at least 3 points), found " + describe(v.node));
    std::vector<Vec2> pts;
    for (const V& e : seq(v)) {
      const Point3 p = point(e);
      pts.push_back({p.x, p.y});
    }
    if (pts.size() < 3)
      fail(v, "a polygon needs at least 3 points, found " + std::to_string(pts.size()));
    return pts;
  }
  Polygon polygon(const V& v) const {
    Polygon poly;
    poly.pts = outline(v);
    poly.finalize();
    return poly;
  }
  std::pair<double, double> band(const V& v) const {
    const std::vector<double> z = numbers(v, 2, 2, "a height band [z0, z1]");
    if (!(z[0] < z[1])) fail(v, "expected a height band [z0, z1] with z0 < z1, found " + describe_seq(v));
    return {z[0], z[1]};
  }
  std::string describe_seq(const V& v) const {
    YAML::Emitter e;
    e.SetSeqFormat(YAML::Flow);
    e.SetMapFormat(YAML::Flow);
    e << v.node;
    return e.c_str();
  }

 private:
  std::string file_;
};

Map::Map(const Reader& r, const V& v, const std::vector<std::string>* allowed) : r_(r), self_(v) {
  if (v.node.IsNull()) return;  // an empty value reads as an empty mapping
  if (!v.node.IsMap()) r.fail(v, "expected a mapping, found " + describe(v.node));
  for (auto it = v.node.begin(); it != v.node.end(); ++it) {
    const YAML::Node k = it->first, val = it->second;
    const int kline = mark_line(k, v.line);
    if (!k.IsScalar()) r.fail(kline, v.path, "expected a key, found " + describe(k));
    const std::string key = k.Scalar();
    const std::string path = child(v.path, key);
    if (allowed && !contains(*allowed, key))
      r.fail(kline, path, "unknown key '" + key + "' (allowed: " + join(*allowed) + ")");
    for (const Entry& e : entries_)
      if (e.key == key)
        r.fail(kline, path, "duplicate key '" + key + "' (first given on line " + std::to_string(e.key_line) + ")");
    // an empty value has no position of its own: report it at its key
    const int vline = val.IsNull() ? kline : mark_line(val, kline);
    entries_.push_back(Entry{key, kline, V{val, path, vline}});
  }
}

const V& Map::req(const std::string& key) const {
  const V* v = get(key);
  if (!v) r_.fail(self_.line, child(self_.path, key), "missing required key '" + key + "'");
  return *v;
}

// ---------------------------------------------------------------------------------------------
// rules and calendar: applied onto an existing value, so that only the keys written change

struct RulesReader {
  const Reader& r;

  void apply(const V& v, Rules& rules) const {
    const Map m = r.map(v, {"gathering", "stationary", "crossing", "over_capacity", "linkage", "tag_offline_after",
                            "low_battery", "untagged_after", "ack_within", "work_roles", "work_without_permit_after",
                            "evaluate_every", "approval", "validity", "pause_reanalysis", "certificates", "gas"});
    if (const V* g = m.get("gathering")) gathering(*g, rules.gathering);
    if (const V* s = m.get("stationary")) {
      const Map sm = r.map(*s, {"radius", "after"});
      if (const V* x = sm.get("radius")) rules.stationary_radius = r.positive(*x);
      if (const V* x = sm.get("after")) rules.stationary_after = r.duration(*x);
    }
    if (const V* c = m.get("crossing")) {
      const Map cm = r.map(*c, {"escalate_after", "exit_margin", "delay"});
      if (const V* x = cm.get("escalate_after")) rules.crossing_escalate_after = r.duration(*x);
      if (const V* x = cm.get("exit_margin")) rules.crossing_exit_margin = r.nonneg(*x);
      if (const V* x = cm.get("delay")) {
        rules.crossing_delay = r.duration(*x);
        if (rules.crossing_delay > 5 * kSecond)
          r.fail(*x, "the crossing warning must come within 5 s of entering; found " + describe(x->node));
      }
    }
    if (const V* c = m.get("over_capacity")) {
      const Map cm = r.map(*c, {"delay"});
      if (const V* x = cm.get("delay")) rules.capacity_delay = r.duration(*x);
    }
    if (const V* l = m.get("linkage")) {
      const Map lm = r.map(*l, {"on_site_radius", "guardian_margin", "grace"});
      if (const V* x = lm.get("on_site_radius")) rules.linkage_on_site_radius = r.nonneg(*x);
      if (const V* x = lm.get("guardian_margin")) rules.linkage_guardian_margin = r.nonneg(*x);
      if (const V* x = lm.get("grace")) rules.linkage_grace = r.duration(*x);
    }
    if (const V* x = m.get("tag_offline_after")) rules.tag_offline_after = r.duration(*x);
    if (const V* x = m.get("low_battery")) rules.low_battery = r.in_range(*x, 0, 1);
    if (const V* x = m.get("untagged_after")) rules.untagged_after = r.duration(*x);
    if (const V* x = m.get("ack_within")) rules.ack_within = r.duration(*x);
    if (const V* x = m.get("work_roles")) rules.work_roles = r.strings(*x);
    if (const V* x = m.get("work_without_permit_after")) rules.work_without_permit_after = r.duration(*x);
    if (const V* x = m.get("evaluate_every")) rules.evaluate_every = r.positive_duration(*x);
    if (const V* x = m.get("approval")) approval(*x, rules.approval);
    if (const V* x = m.get("validity")) by_type_grade(*x, rules.validity);
    if (const V* x = m.get("pause_reanalysis")) by_type_grade(*x, rules.pause_reanalysis);
    if (const V* x = m.get("certificates")) certificates(*x, rules.certificates);
    if (const V* x = m.get("gas")) gas(*x, rules.gas);
  }

  void gathering(const V& v, GatheringRules& g) const {
    const Map m = r.map(v, {"radius", "dwell", "yellow", "orange", "red", "confirm_close_from", "clear_after", "fix_max_age", "every"});
    if (const V* x = m.get("radius")) g.radius = r.positive(*x);
    if (const V* x = m.get("dwell")) g.dwell = r.duration(*x);
    if (const V* x = m.get("yellow")) g.yellow = r.count(*x);
    if (const V* x = m.get("orange")) g.orange = r.count(*x);
    if (const V* x = m.get("red")) g.red = r.count(*x);
    if (const V* x = m.get("confirm_close_from")) {
      const std::string s = r.one_of(*x, {"yellow", "orange", "red"}, "level");
      g.confirm_close_from = s == "yellow" ? Risk::yellow : s == "orange" ? Risk::orange : Risk::red;
    }
    if (const V* x = m.get("clear_after")) g.clear_after = r.duration(*x);
    if (const V* x = m.get("fix_max_age")) g.fix_max_age = r.duration(*x);
    if (const V* x = m.get("every")) g.every = r.duration(*x);
    // tiers are checked on the merged result, at the first tier this mapping writes
    if (!(g.yellow >= 2 && g.yellow <= g.orange && g.orange <= g.red)) {
      const V* at = m.get("yellow");
      if (!at) at = m.get("orange");
      if (!at) at = m.get("red");
      std::ostringstream os;
      os << "gathering tiers must satisfy 2 <= yellow <= orange <= red; found yellow " << g.yellow << ", orange "
         << g.orange << ", red " << g.red;
      r.fail(at ? *at : v, os.str());
    }
  }

  std::string type_key(const Map::Entry& e) const {
    if (!contains(kPermitTypes, e.key))
      r.fail(e.key_line, e.value.path,
             "unknown permit type '" + e.key + "' (allowed: " + join(kPermitTypes) + ")");
    return e.key;
  }
  std::string grade_key(const Map::Entry& e) const {
    if (!contains(kGrades, e.key))
      r.fail(e.key_line, e.value.path, "unknown grade '" + e.key + "' (allowed: " + join(kGrades) + ")");
    return e.key;
  }

  // {type: duration} (every grade) or {type: {grade: duration}}, merged per type and grade
  void by_type_grade(const V& v, std::map<std::string, std::map<std::string, Micros>>& out) const {
    const Map m = r.free_map(v);
    for (const Map::Entry& e : m.entries()) {
      const std::string type = type_key(e);
      if (e.value.node.IsMap()) {
        const Map gm = r.free_map(e.value);
        for (const Map::Entry& ge : gm.entries()) out[type][grade_key(ge)] = r.duration(ge.value);
      } else {
        out[type] = {{"", r.duration(e.value)}};  // one value for the whole type replaces its grades
      }
    }
  }

  void approval(const V& v, std::map<std::string, std::map<std::string, std::vector<std::string>>>& out) const {
    const Map m = r.free_map(v);
    for (const Map::Entry& e : m.entries()) {
      const std::string type = type_key(e);
      if (e.value.node.IsMap()) {
        const Map gm = r.free_map(e.value);
        for (const Map::Entry& ge : gm.entries())
          out[type][grade_key(ge)] = r.strings(ge.value, "a list of roles");
      } else {
        out[type] = {{"", r.strings(e.value, "a list of roles, or a mapping {grade: [roles]}")}};
      }
    }
  }

  void certificates(const V& v, std::map<std::string, std::map<std::string, std::string>>& out) const {
    const Map m = r.free_map(v);
    for (const Map::Entry& e : m.entries()) {
      if (e.key == "guardian" && !e.value.node.IsMap()) {  // every guardian, whatever the type
        out["guardian"][""] = r.nonempty_text(e.value, "a certificate type");
        continue;
      }
      const std::string type = type_key(e);
      const Map rm = r.map(e.value, {"workers", "guardian"});
      for (const Map::Entry& re : rm.entries()) out[type][re.key] = r.nonempty_text(re.value, "a certificate type");
    }
  }

  void gas(const V& v, Rules::Gas& g) const {
    const Map m = r.map(v, {"max_age", "flammable_volpct_low_lel", "flammable_volpct", "o2_min", "o2_max", "toxic", "record_every"});
    if (const V* x = m.get("max_age")) g.max_age = r.duration(*x);
    if (const V* x = m.get("record_every")) g.record_every = r.positive_duration(*x);
    if (const V* x = m.get("flammable_volpct_low_lel")) g.flammable_volpct_low_lel = r.in_range(*x, 0, 100);
    if (const V* x = m.get("flammable_volpct")) g.flammable_volpct = r.in_range(*x, 0, 100);
    if (const V* x = m.get("o2_min")) g.o2_min = r.in_range(*x, 0, 100);
    if (const V* x = m.get("o2_max")) g.o2_max = r.in_range(*x, 0, 100);
    if (!(g.o2_min <= g.o2_max)) {
      const V* at = m.get("o2_min") ? m.get("o2_min") : m.get("o2_max");
      std::ostringstream os;
      os << "expected o2_min <= o2_max; found o2_min " << g.o2_min << ", o2_max " << g.o2_max;
      r.fail(at ? *at : v, os.str());
    }
    if (const V* t = m.get("toxic")) {
      const Map tm = r.free_map(*t);
      for (const Map::Entry& e : tm.entries()) g.toxic[e.key] = r.nonneg(e.value);
    }
  }
};

struct CalendarReader {
  const Reader& r;
  int tz_min;  // local midnight of a date alone is taken in this offset

  // a date-time with offset, or a date (local midnight; as an end: the end of that day)
  std::int64_t instant(const V& v, bool end) const {
    std::int64_t unix_s = 0, day = 0;
    int off = 0;
    if (v.node.IsScalar()) {
      const std::string s = v.node.Scalar();
      if (parse_datetime(s, unix_s, off)) return unix_s;
      if (parse_date(s, day)) return (day + (end ? 1 : 0)) * 86400 - static_cast<std::int64_t>(tz_min) * 60;
    }
    r.fail(v, "expected an ISO 8601 date-time with offset (2026-10-01T08:00:00+08:00) or a date (2026-10-01), found " +
                  describe(v.node));
  }

  void apply(const V& v, Calendar& c) const {
    const Map m = r.map(v, {"holidays", "workdays", "rest_days", "night", "special_periods"});
    if (const V* x = m.get("holidays")) {
      c.holidays.clear();
      for (const V& e : r.seq(*x, "a list of dates")) c.holidays.push_back(r.date(e));
    }
    if (const V* x = m.get("workdays")) {
      c.workdays.clear();
      for (const V& e : r.seq(*x, "a list of dates")) c.workdays.push_back(r.date(e));
    }
    if (const V* x = m.get("rest_days")) {
      c.rest_days = 0;
      for (const V& e : r.seq(*x, "a list of weekdays (mon ... sun)")) {
        const std::string d = r.one_of(e, kWeekdays, "weekday");
        c.rest_days = static_cast<std::uint8_t>(c.rest_days | (1u << (std::find(kWeekdays.begin(), kWeekdays.end(), d) -
                                                                      kWeekdays.begin())));
      }
    }
    if (const V* x = m.get("night")) {
      if (!x->node.IsSequence() || x->node.size() != 2)
        r.fail(*x, "expected [from, to] as two times of day like [\"20:00\", \"06:00\"], found " + describe(x->node));
      const std::vector<V> ft = r.seq(*x);
      c.night_from_min = r.clock(ft[0]);
      c.night_to_min = r.clock(ft[1]);
    }
    if (const V* x = m.get("special_periods")) {
      c.special_periods.clear();
      for (const V& e : r.seq(*x, "a list of [from, to] periods")) {
        if (!e.node.IsSequence() || e.node.size() != 2)
          r.fail(e, "expected a period [from, to], found " + describe(e.node));
        const std::vector<V> ft = r.seq(e);
        const std::int64_t from = instant(ft[0], false), to = instant(ft[1], true);
        if (to < from) r.fail(e, "the period ends before it begins");
        c.special_periods.emplace_back(from, to);
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// site

void check_unique(const Reader& r, std::set<std::string>& seen, const V& at, const std::string& id, const char* what) {
  if (!seen.insert(id).second) r.fail(at, std::string("duplicate ") + what + " id '" + id + "'");
}

std::string floor_id(const Reader& r, const V& v) { return r.nonempty_text(v, "a floor id"); }

void check_floor(const Reader& r, const Site& site, const V& v, const std::string& id) {
  if (!site.has_floor(id))
    r.fail(v, "unknown floor '" + id + "' (the site defines: " + join(site.floor_ids()) + ")");
}

std::vector<Floor> floors(const Reader& r, const V& v) {
  std::vector<Floor> out;
  std::set<std::string> seen;
  for (const V& e : r.seq(v, "a list of floors {id, z}")) {
    const Map m = r.map(e, {"id", "z"});
    Floor f;
    f.id = floor_id(r, m.req("id"));
    check_unique(r, seen, m.req("id"), f.id, "floor");
    const auto z = r.band(m.req("z"));
    f.z0 = z.first;
    f.z1 = z.second;
    out.push_back(f);
  }
  return out;
}

Category category(const Reader& r, const V& v) {
  const std::string s = r.one_of(v, {"employee", "contractor", "visitor", "driver"}, "category");
  if (s == "contractor") return Category::contractor;
  if (s == "visitor") return Category::visitor;
  if (s == "driver") return Category::driver;
  return Category::employee;
}

ScheduleWindow schedule_window(const Reader& r, const V& v) {
  const Map m = r.map(v, {"days", "from", "to"});
  ScheduleWindow w;
  if (const V* d = m.get("days")) {
    w.days = 0;
    std::vector<V> items;
    if (d->node.IsScalar()) items.push_back(*d);
    else items = r.seq(*d, "a list of days (mon ... sun, workdays, rest_days)");
    std::vector<std::string> allowed = kWeekdays;
    allowed.push_back("workdays");
    allowed.push_back("rest_days");
    for (const V& e : items) {
      const std::string s = r.one_of(e, allowed, "day");
      if (s == "workdays") w.on_workdays = true;
      else if (s == "rest_days") w.on_rest_days = true;
      else w.days = static_cast<std::uint8_t>(w.days | (1u << (std::find(kWeekdays.begin(), kWeekdays.end(), s) -
                                                                kWeekdays.begin())));
    }
  }
  if (const V* x = m.get("from")) w.from_min = r.clock(*x);
  if (const V* x = m.get("to")) w.to_min = r.clock(*x);
  if (w.from_min == w.to_min)
    r.fail(m.get("to") ? *m.get("to") : v, "the window is empty: 'from' and 'to' are the same time of day");
  return w;
}

Zone zone(const Reader& r, const V& v, const Site& site) {
  const Map m = r.map(v, {"id", "name", "kind", "polygon", "floors", "z", "risk", "capacity", "min_staff", "authorized",
                          "stay_inside", "schedule", "stationary_after", "overstay_after", "permit_required",
                          "explosion_hazard"});
  Zone z;
  z.line = v.line;
  z.id = r.nonempty_text(m.req("id"), "a zone id");
  z.name = m.get("name") ? r.text(*m.get("name")) : z.id;
  if (const V* x = m.get("kind")) {
    static const std::vector<std::string> kinds = {"production", "storage", "loading", "high_risk",
                                                   "major_hazard", "office", "gate", "other"};
    const std::string k = r.one_of(*x, kinds, "zone kind");
    z.kind = static_cast<ZoneKind>(std::find(kinds.begin(), kinds.end(), k) - kinds.begin());
  }
  z.polygon = r.polygon(m.req("polygon"));
  if (m.get("floors") && m.get("z"))
    r.fail(*m.get("z"), "give either 'floors' or 'z', not both");
  if (const V* x = m.get("floors")) {
    for (const V& e : r.seq(*x, "a list of floor ids")) {
      const std::string id = floor_id(r, e);
      check_floor(r, site, e, id);
      z.floors.push_back(id);
    }
  }
  if (const V* x = m.get("z")) z.z = r.band(*x);
  if (const V* x = m.get("risk")) {
    const std::string s = r.one_of(*x, {"red", "orange", "yellow", "blue"}, "risk colour");
    z.risk = s == "red" ? Risk::red : s == "orange" ? Risk::orange : s == "yellow" ? Risk::yellow : Risk::blue;
  }
  if (const V* x = m.get("capacity")) z.capacity = r.count(*x);
  if (const V* x = m.get("min_staff")) z.min_staff = r.count(*x);
  if (const V* x = m.get("authorized")) {
    const Map am = r.map(*x, {"people", "roles", "categories"});
    z.authorized.present = true;
    if (const V* p = am.get("people")) z.authorized.people = r.strings(*p, "a list of person ids");
    if (const V* p = am.get("roles")) z.authorized.roles = r.strings(*p, "a list of roles");
    if (const V* p = am.get("categories"))
      for (const V& e : r.seq(*p, "a list of categories")) z.authorized.categories.push_back(category(r, e));
  }
  if (const V* x = m.get("stay_inside")) z.stay_inside = r.boolean(*x);
  if (const V* x = m.get("schedule")) {
    if (x->node.IsMap()) z.schedule.push_back(schedule_window(r, *x));
    else
      for (const V& e : r.seq(*x, "a schedule {days, from, to} or a list of them")) z.schedule.push_back(schedule_window(r, e));
  }
  if (const V* x = m.get("stationary_after")) z.stationary_after = r.duration(*x);
  if (const V* x = m.get("overstay_after")) z.overstay_after = r.duration(*x);
  if (const V* x = m.get("permit_required")) z.permit_required = r.boolean(*x);
  if (const V* x = m.get("explosion_hazard")) z.explosion_hazard = r.boolean(*x);
  return z;
}

bool read_file(const std::string& path, std::string& bytes, std::string& why);
YAML::Node parse_yaml(const std::string& text, const std::string& file);

// `range_offsets` (docs/site-v1.md): {anchors: {ID: metres}, tags: {ID: metres}}, or the path of a
// YAML file holding that mapping, relative to the file that holds the site. Anchor ids must be the
// site's (so anchors come first); tag ids are not checked (a site does not know its tags).
void range_offsets(const Reader& r, const V& v, Site& s) {
  if (v.node.IsScalar()) {
    const std::string rel = r.nonempty_text(v, "a range offsets file path or a mapping {anchors, tags}");
    const std::filesystem::path path = std::filesystem::path(r.file()).parent_path() / rel;
    std::string bytes, why;
    if (!read_file(path.string(), bytes, why)) r.fail(v, "cannot read range offsets file '" + path.string() + "': " + why);
    const Reader fr(path.string());
    const YAML::Node root = parse_yaml(bytes, path.string());
    const V fv{root, "range_offsets", mark_line(root, 1)};
    if (!root.IsMap()) fr.fail(fv, "expected a mapping {anchors: {ID: metres}, tags: {ID: metres}}, found " + describe(root));
    range_offsets(fr, fv, s);
    s.range_offsets.file = path.string();
    return;
  }
  const Map m = r.map(v, {"anchors", "tags"});
  auto read = [&](const char* key, std::map<std::string, double>& out, bool anchors) {
    const V* x = m.get(key);
    if (!x) return;
    const Map om = r.free_map(*x);
    for (const Map::Entry& e : om.entries()) {
      if (anchors && std::none_of(s.anchors.begin(), s.anchors.end(), [&](const Anchor& a) { return a.id == e.key; })) {
        std::vector<std::string> ids;
        for (const Anchor& a : s.anchors) ids.push_back(a.id);
        r.fail(e.key_line, e.value.path, "unknown anchor '" + e.key + "' (the site has: " + join(ids) + ")");
      }
      const std::string raw = e.value.node.IsScalar() ? e.value.node.Scalar() : std::string();
      std::string lower = raw;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == ".nan" || lower == ".inf" || lower == "+.inf" || lower == "-.inf")
        r.fail(e.value, "expected a finite number, found " + describe(e.value.node));
      const double d = r.number(e.value);
      if (std::abs(d) > 5)
        r.fail(e.value, "a range offset of " + raw + " m lies beyond +-5 m (offsets are centimetres to decimetres: a wrong unit?)");
      out[e.key] = d;
    }
  };
  read("anchors", s.range_offsets.anchors, true);
  read("tags", s.range_offsets.tags, false);
}

// A mesh obstacle (docs/site-v1.md "Mesh obstacles"): the model file, resolved against the folder of
// the file being read, placed by at/yaw/scale/up and read with assimp (scenarios/mesh/).
// Model files read during one site's load, by resolved path and triangle limit: each is read and
// hashed once however many obstacles place it.
struct MeshFileCache {
  struct Entry {
    MeshModel model;
    MeshReadResult res;
    std::string sha256;
  };
  std::map<std::pair<std::string, std::size_t>, std::shared_ptr<const Entry>> entries;
};

void mesh_obstacle(const Reader& r, const V& e, Obstacle& o, MeshFileCache& cache) {
  const Map mm = r.map(e, {"id", "shape", "mesh", "material", "at", "yaw", "scale", "up", "max_triangles"});
  o.shape = Obstacle::Shape::mesh;
  const V& mv = mm.req("mesh");
  const std::string file = r.nonempty_text(mv, "a model file path (glTF, GLB, OBJ, IFC, ...)");
  MeshPlacement place;
  if (const V* x = mm.get("at")) {
    const std::vector<double> at = r.numbers(*x, 3, 3, "a position [x, y, z]");
    for (std::size_t i = 0; i < 3; ++i) {
      if (std::abs(at[i]) > kMeshMaxOffset_m) {
        std::ostringstream os;
        os << "every coordinate of 'at' must be within " << kMeshMaxOffset_m << " m of the site's origin, found " << describe(x->node);
        r.fail(*x, os.str());
      }
      place.at[i] = at[i];
    }
  }
  if (const V* x = mm.get("yaw")) place.yaw_deg = r.in_range(*x, -360, 360);
  if (const V* x = mm.get("scale")) place.scale = r.in_range(*x, kMeshMinScale, kMeshMaxScale);
  if (const V* x = mm.get("up")) place.y_up = r.one_of(*x, {"y", "z"}, "up axis") == "y";
  std::size_t max_tris = kMeshMaxTriangles;
  if (const V* x = mm.get("max_triangles")) {
    const long long n = r.integer(*x);
    if (n < 1 || n > 100'000'000) r.fail(*x, "expected a whole number from 1 to 100000000, found " + describe(x->node));
    max_tris = static_cast<std::size_t>(n);
  }
  auto mesh = std::make_shared<ObstacleMesh>();
  mesh->file = file;
  const std::filesystem::path rel(file);
  mesh->path = (rel.is_absolute() ? rel : std::filesystem::path(r.file()).parent_path() / rel).lexically_normal().string();
  auto& cached = cache.entries[{mesh->path, max_tris}];
  if (!cached) {
    auto c = std::make_shared<MeshFileCache::Entry>();
    // the model cache (scenarios/mesh_cache.h), when the command line set one: keyed by the
    // model file's SHA-256, it skips assimp on every load after the first
    const MeshCacheOptions persistent = mesh_cache();
    std::string main_sha;
    std::vector<std::string> shas;
    bool hit = false;
    if (!persistent.dir.empty()) {
      std::string bytes, why;
      if (read_file(mesh->path, bytes, why)) {  // else read_mesh_model says why, below
        main_sha = sha256_hex(bytes);
        hit = mesh_cache_load(persistent, mesh->path, main_sha, max_tris, c->model, shas);
        if (hit) c->res.files = c->model.files;
      }
    }
    if (!hit) {
      c->res = read_mesh_model(mesh->path, max_tris, c->model);
      if (!c->res.error.empty()) r.fail(mv, "model file '" + mesh->path + "': " + c->res.error);
      shas.clear();
      for (const std::string& f : c->res.files) {
        if (f == mesh->path && !main_sha.empty()) {  // already hashed for the cache's key
          shas.push_back(main_sha);
          continue;
        }
        std::string bytes, why;
        if (!read_file(f, bytes, why)) r.fail(mv, "model file '" + f + "': " + why);
        shas.push_back(sha256_hex(bytes));
      }
      if (!persistent.dir.empty() && !shas.empty()) mesh_cache_store(persistent, mesh->path, shas[0], max_tris, c->model, shas);
    }
    // the hash: the model file's own SHA-256; with more files (a .gltf's .bin, an .obj's .mtl) the
    // SHA-256 of their sha256sum lines, in the order assimp opened them
    std::string lines;
    for (std::size_t i = 0; i < c->res.files.size(); ++i)
      lines += shas[i] + "  " + std::filesystem::path(c->res.files[i]).filename().string() + "\n";
    c->sha256 = c->res.files.size() == 1 ? shas[0] : sha256_hex(lines);
    cached = std::move(c);
  }
  place_mesh(cached->model, place, *mesh);
  mesh->files = cached->res.files;
  mesh->sha256 = cached->sha256;
  // the bounding box, in the site frame
  for (int i = 0; i < 3; ++i) o.min[i] = o.max[i] = mesh->vertices[0][static_cast<std::size_t>(i)];
  for (const auto& v : mesh->vertices)
    for (int i = 0; i < 3; ++i) {
      o.min[i] = std::min(o.min[i], v[static_cast<std::size_t>(i)]);
      o.max[i] = std::max(o.max[i], v[static_cast<std::size_t>(i)]);
    }
  for (int i = 0; i < 3; ++i)
    if (std::abs(o.min[i]) > kMeshMaxOffset_m || std::abs(o.max[i]) > kMeshMaxOffset_m) {
      std::ostringstream os;
      os << "model file '" << mesh->path << "': placed, it reaches beyond " << kMeshMaxOffset_m
         << " m from the site's origin (check 'scale' and the model's units)";
      r.fail(mv, os.str());
    }
  if (o.max[0] - o.min[0] <= 0 && o.max[1] - o.min[1] <= 0 && o.max[2] - o.min[2] <= 0)
    r.fail(mv, "model file '" + mesh->path + "': the mesh is empty (every vertex at one point)");
  o.mesh = std::move(mesh);
}

// `inline_site`: the mapping under a scenario's `site` key, whose name is optional
void read_site(const Reader& r, const V& root, bool inline_site, const std::string& default_name, Site& s) {
  const Map m = r.map(root, {"site", "origin", "bounds", "timezone", "floors", "buildings", "obstacles", "materials",
                             "zones", "anchors", "cameras", "survey_points", "rules", "calendar", "range_offsets"});
  if (inline_site && !m.get("site")) s.name = default_name;
  else s.name = r.nonempty_text(m.req("site"), "a site name");

  if (const V* x = m.get("origin")) {
    const Map om = r.map(*x, {"lat", "lon", "alt"});
    std::array<double, 3> o{};
    o[0] = r.in_range(om.req("lat"), -90, 90);
    o[1] = r.in_range(om.req("lon"), -180, 180);
    if (const V* a = om.get("alt")) o[2] = r.number(*a);
    s.origin = o;
  }
  if (const V* x = m.get("bounds")) s.bounds = r.polygon(*x);
  if (const V* x = m.get("timezone")) {
    if (!x->node.IsScalar() || !parse_utc_offset(x->node.Scalar(), s.timezone_min))
      r.fail(*x, "expected a UTC offset like +08:00, found " + describe(x->node));
  }

  // floors first: zones, survey points and scenarios refer to them
  if (const V* x = m.get("floors")) s.floors = floors(r, *x);
  if (const V* x = m.get("buildings")) {
    std::set<std::string> seen;
    for (const V& e : r.seq(*x, "a list of buildings")) {
      const Map bm = r.map(e, {"id", "footprint", "floors", "wall"});
      Building b;
      b.id = r.nonempty_text(bm.req("id"), "a building id");
      check_unique(r, seen, bm.req("id"), b.id, "building");
      b.footprint = r.polygon(bm.req("footprint"));
      if (const V* f = bm.get("floors")) b.floors = floors(r, *f);
      if (const V* w = bm.get("wall")) {
        const Map wm = r.map(*w, {"material", "thickness"});
        if (const V* mat = wm.get("material")) b.wall_material = r.one_of(*mat, kMaterials, "material");
        if (const V* t = wm.get("thickness")) b.wall_thickness = r.positive(*t);
      }
      s.buildings.push_back(std::move(b));
    }
  }
  if (s.floors.empty()) s.floors.push_back(Floor{"1", -1, 4});

  if (const V* x = m.get("obstacles")) {
    std::set<std::string> seen;
    MeshFileCache meshes;
    for (const V& e : r.seq(*x, "a list of obstacles")) {
      const Map probe = r.map(e, {"id", "shape", "min", "max", "center", "radius", "z", "material", "mesh", "at", "yaw",
                                  "scale", "up", "max_triangles"});
      Obstacle o;
      o.id = r.nonempty_text(probe.req("id"), "an obstacle id");
      check_unique(r, seen, probe.req("id"), o.id, "obstacle");
      const std::string shape = probe.get("mesh") && !probe.get("shape")
                                    ? std::string("mesh")
                                    : r.one_of(probe.req("shape"), {"box", "cylinder", "mesh"}, "shape");
      if (shape == "mesh") {
        mesh_obstacle(r, e, o, meshes);
      } else if (shape == "box") {
        const Map bm = r.map(e, {"id", "shape", "min", "max", "material"});
        const std::vector<double> lo = r.numbers(bm.req("min"), 3, 3, "a corner [x, y, z]");
        const std::vector<double> hi = r.numbers(bm.req("max"), 3, 3, "a corner [x, y, z]");
        for (int i = 0; i < 3; ++i) {
          o.min[i] = lo[static_cast<std::size_t>(i)];
          o.max[i] = hi[static_cast<std::size_t>(i)];
          if (o.max[i] < o.min[i]) r.fail(bm.req("max"), "every coordinate of 'max' must be >= that of 'min'");
        }
      } else {
        const Map cm = r.map(e, {"id", "shape", "center", "radius", "z", "material"});
        o.shape = Obstacle::Shape::cylinder;
        const std::vector<double> c = r.numbers(cm.req("center"), 2, 2, "a centre [x, y]");
        o.center = {c[0], c[1]};
        o.radius = r.positive(cm.req("radius"));
        const auto z = r.band(cm.req("z"));
        o.z0 = z.first;
        o.z1 = z.second;
      }
      if (const V* mat = probe.get("material")) o.material = r.one_of(*mat, kMaterials, "material");
      s.obstacles.push_back(o);
    }
  }
  if (const V* x = m.get("materials")) {
    const Map mm = r.map(*x, kMaterials);
    for (const Map::Entry& e : mm.entries()) {
      const Map em = r.map(e.value, {"attenuation_db", "nlos_bias_m"});
      Material mat;
      mat.attenuation_db = r.nonneg(em.req("attenuation_db"));
      mat.nlos_bias_m = r.nonneg(em.req("nlos_bias_m"));
      s.materials[e.key] = mat;
    }
  }
  if (const V* x = m.get("zones")) {
    std::set<std::string> seen;
    for (const V& e : r.seq(*x, "a list of zones")) {
      Zone z = zone(r, e, s);
      const Map zm = r.free_map(e);
      check_unique(r, seen, zm.req("id"), z.id, "zone");
      s.zones.push_back(std::move(z));
    }
  }
  if (const V* x = m.get("anchors")) {
    std::set<std::string> seen;
    for (const V& e : r.seq(*x, "a list of anchors")) {
      const Map am = r.map(e, {"id", "at"});
      Anchor a;
      a.id = r.nonempty_text(am.req("id"), "an anchor id");
      check_unique(r, seen, am.req("id"), a.id, "anchor");
      r.point3(am.req("at"), a.at);
      s.anchors.push_back(a);
    }
  }
  if (const V* x = m.get("cameras")) {
    std::set<std::string> seen;
    for (const V& e : r.seq(*x, "a list of cameras")) {
      const Map cm = r.map(e, {"id", "at", "yaw_deg", "pitch_deg", "hfov_deg", "vfov_deg", "range"});
      Camera c;
      c.id = r.nonempty_text(cm.req("id"), "a camera id");
      check_unique(r, seen, cm.req("id"), c.id, "camera");
      r.point3(cm.req("at"), c.at);
      if (const V* y = cm.get("yaw_deg")) c.yaw_deg = r.number(*y);
      if (const V* y = cm.get("pitch_deg")) c.pitch_deg = r.in_range(*y, -90, 90);
      if (const V* y = cm.get("hfov_deg")) c.hfov_deg = r.in_range(*y, 0, 360);
      if (const V* y = cm.get("vfov_deg")) c.vfov_deg = r.in_range(*y, 0, 180);
      if (const V* y = cm.get("range")) c.range = r.positive(*y);
      s.cameras.push_back(c);
    }
  }
  if (const V* x = m.get("survey_points")) {
    std::set<std::string> seen;
    for (const V& e : r.seq(*x, "a list of survey points")) {
      const Map pm = r.map(e, {"id", "at", "floor"});
      SurveyPoint p;
      p.id = r.nonempty_text(pm.req("id"), "a survey point id");
      check_unique(r, seen, pm.req("id"), p.id, "survey point");
      r.point3(pm.req("at"), p.at);
      if (const V* f = pm.get("floor")) {
        p.floor = floor_id(r, *f);
        check_floor(r, s, *f, p.floor);
      }
      s.survey_points.push_back(p);
    }
  }
  if (const V* x = m.get("rules")) RulesReader{r}.apply(*x, s.rules);
  if (const V* x = m.get("calendar")) CalendarReader{r, s.timezone_min}.apply(*x, s.calendar);
  if (const V* x = m.get("range_offsets")) range_offsets(r, *x, s);  // after the anchors it names
}

// ---------------------------------------------------------------------------------------------
// scenario

bool read_file(const std::string& path, std::string& bytes, std::string& why) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    why = "it is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::filesystem::exists(path, ec) ? "cannot open it" : "no such file";
    return false;
  }
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return false;
  }
  bytes = os.str();
  return true;
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Failure{LoadError{file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg}};
  }
}

struct ScenarioReader {
  const Reader& r;
  Scenario& sc;
  std::map<std::string, const PersonDef*> people;
  std::map<std::string, int> radio_lines;  // flattened radio key -> line

  [[noreturn]] void unknown_person(const V& v, const std::string& id) const {
    std::vector<std::string> ids;
    for (const auto& p : people) ids.push_back(p.first);
    r.fail(v, "unknown person '" + id + "' (people: " + join(ids) + ")");
  }
  std::string person(const V& v) const {
    const std::string id = r.nonempty_text(v, "a person id");
    if (!people.count(id)) unknown_person(v, id);
    return id;
  }
  std::vector<std::string> persons(const V& v) const {
    std::vector<std::string> out;
    for (const V& e : r.seq(v, "a list of person ids")) out.push_back(person(e));
    return out;
  }
  // `who`: an id or a list of ids
  std::vector<std::string> who(const V& v) const {
    if (v.node.IsSequence()) {
      std::vector<std::string> out = persons(v);
      if (out.empty()) r.fail(v, "expected at least one person id, found an empty list");
      return out;
    }
    return {person(v)};
  }

  // a time `t` that must lie in the run [0, duration]
  Micros run_time(const V& v) const {
    Micros t = 0;
    if (v.node.IsScalar()) {
      const std::string s = v.node.Scalar();
      if (!s.empty() && s[0] == '-' && parse_duration(s.substr(1), t) && t > 0)
        r.fail(v, "time '" + s + "' lies before the start of the run [0, " + secs(sc.duration) + "]");
    }
    t = r.duration(v);
    if (t > sc.duration)
      r.fail(v, "time " + secs(t) + " lies after the end of the run [0, " + secs(sc.duration) + "]");
    return t;
  }
  std::pair<Micros, Micros> window(const V& v) const {
    if (!v.node.IsSequence() || v.node.size() != 2)
      r.fail(v, "expected a window [t1, t2], found " + describe(v.node));
    const std::vector<V> ab = r.seq(v);
    const Micros a = run_time(ab[0]), b = run_time(ab[1]);
    if (b < a) r.fail(v, "the window ends (" + secs(b) + ") before it begins (" + secs(a) + ")");
    return {a, b};
  }
  // permit and duty times: a signed duration since the start, or an ISO 8601 date-time
  Micros any_time(const V& v) const {
    if (v.node.IsScalar()) {
      const std::string s = v.node.Scalar();
      std::int64_t unix_s = 0;
      int off = 0;
      Micros d = 0;
      if (parse_datetime(s, unix_s, off)) return (unix_s - sc.clock.start_unix_s) * kSecond;
      if (!s.empty() && s[0] == '-' && parse_duration(s.substr(1), d)) return -d;
      if (parse_duration(s, d)) return d;
    }
    r.fail(v, std::string("expected a time since the start (") + kDurationHelp +
                  ", may be negative) or an ISO 8601 date-time with offset, found " + describe(v.node));
  }

  std::string code(const V& v) const {
    std::string c = r.text(v, "an AQ 3064.2 code");
    if (c.size() == 1 && c[0] >= '0' && c[0] <= '9') c = "0" + c;
    if (!contains(kCodes, c))
      r.fail(v, "unknown code " + describe(v.node) + " (expected one of: " + join(kCodes) + ")");
    return c;
  }
  Aq2Code code_enum(const V& v) const {
    Aq2Code c = Aq2Code::none;
    parse_aq2_code(code(v), c);
    return c;
  }
  AlarmType alarm_type(const V& v) const {
    AlarmType t = AlarmType::gathering;
    parse_alarm_type(r.one_of(v, kAlarmTypes, "alarm type"), t);
    return t;
  }
  AlarmLevel alarm_level(const V& v) const {
    AlarmLevel l = AlarmLevel::none;
    parse_alarm_level(r.one_of(v, kAlarmLevels, "alarm level"), l);
    return l;
  }

  void person_defs(const V& v) {
    std::set<std::string> ids, tags;
    for (const V& e : r.seq(v, "a list of people")) {
      const Map m = r.map(e, {"id", "name", "category", "roles", "company", "tag", "at", "floor", "certificates"});
      PersonDef p;
      p.line = e.line;
      p.id = r.nonempty_text(m.req("id"), "a person id");
      check_unique(r, ids, m.req("id"), p.id, "person");
      p.name = m.get("name") ? r.text(*m.get("name")) : p.id;
      if (const V* x = m.get("category")) p.category = category(r, *x);
      if (const V* x = m.get("roles")) p.roles = r.strings(*x, "a list of roles");
      if (const V* x = m.get("company")) p.company = r.text(*x);
      if (const V* x = m.get("tag"); x && !x->node.IsNull()) {
        p.tag = r.nonempty_text(*x, "a tag id");
        check_unique(r, tags, *x, *p.tag, "tag");
      }
      p.at = r.point(m.req("at"));
      if (const V* x = m.get("floor")) {
        p.floor = floor_id(r, *x);
        check_floor(r, sc.site, *x, p.floor);
      } else if (!sc.site.has_floor(p.floor)) {
        r.fail(e.line, child(e.path, "floor"),
               "the default floor '1' is not defined by the site (it defines: " + join(sc.site.floor_ids()) +
                   "); give 'floor'");
      }
      if (const V* x = m.get("certificates")) {
        for (const V& ce : r.seq(*x, "a list of certificates")) {
          const Map cm = r.map(ce, {"type", "number", "expires", "holder"});
          CertificateDef c;
          c.type = r.nonempty_text(cm.req("type"), "a certificate type");
          c.number = r.text(cm.req("number"), "a certificate number");
          c.expires_day = r.date(cm.req("expires"));
          c.holder = cm.get("holder") ? r.text(*cm.get("holder")) : p.name;
          p.certificates.push_back(c);
        }
      }
      sc.people.push_back(std::move(p));
    }
    for (const PersonDef& p : sc.people) people[p.id] = &p;
  }

  GasReadings readings(const V& v) const {
    const Map m = r.map(v, permit_vocabulary::reading_keys());
    GasReadings g;
    if (const V* x = m.get("flammable_volpct")) g.flammable_volpct = r.in_range(*x, 0, 100);
    if (const V* x = m.get("gas_lel_pct")) g.gas_lel_pct = r.in_range(*x, 0, 100);
    if (const V* x = m.get("o2_volpct")) g.o2_volpct = r.in_range(*x, 0, 100);
    if (const V* x = m.get("toxic")) {
      const Map tm = r.free_map(*x);
      for (const Map::Entry& e : tm.entries()) g.toxic[e.key] = r.nonneg(e.value);
    }
    return g;
  }

  PermitCommand permit(const V& v) const {
    const Map m = r.map(v, permit_vocabulary::fields());
    PermitCommand c;
    c.action = r.one_of(m.req("action"), kPermitActions, "permit action");
    c.id = r.nonempty_text(m.req("id"), "a permit id");
    // what each command cannot do without (scenario-v1 "Special work")
    for (const std::string& k : permit_vocabulary::required_fields(c.action)) m.req(k);

    if (const V* x = m.get("by")) c.by = person(*x);
    if (const V* x = m.get("reservation")) c.reservation = r.nonempty_text(*x, "a reservation id");
    if (const V* x = m.get("type")) c.type = r.one_of(*x, kPermitTypes, "permit type");
    if (const V* x = m.get("grade")) c.grade = r.one_of(*x, kGrades, "grade");
    if (const V* x = m.get("area")) c.area = r.outline(*x);
    if (const V* x = m.get("floor")) {
      c.floor = floor_id(r, *x);
      check_floor(r, sc.site, *x, c.floor);
    }
    if (const V* x = m.get("workers")) c.workers = persons(*x);
    if (const V* x = m.get("guardian")) c.guardian = person(*x);
    if (const V* x = m.get("approver")) c.approver = person(*x);
    if (const V* x = m.get("linked")) c.linked = r.strings(*x, "a list of permit ids");
    if (const V* x = m.get("from")) c.from = any_time(*x);
    if (const V* x = m.get("to")) c.to = any_time(*x);
    if (c.from && c.to && *c.to < *c.from) r.fail(*m.get("to"), "'to' lies before 'from'");
    if (const V* x = m.get("urgent")) c.urgent = r.boolean(*x);
    if (const V* x = m.get("load_t")) c.load_t = r.nonneg(*x);
    if (const V* x = m.get("height_m")) c.height_m = r.nonneg(*x);
    if (const V* x = m.get("hazard_factors")) c.hazard_factors = r.strings(*x);
    if (const V* x = m.get("blind")) c.blind = r.one_of(*x, permit_vocabulary::blind_operations(), "blind-plate operation");
    if (const V* x = m.get("readings")) c.readings = readings(*x);
    if (const V* x = m.get("signed_by")) c.signed_by = persons(*x);
    if (const V* x = m.get("note")) c.note = r.text(*x);
    return c;
  }

  AlarmAction alarm_action(const V& v) const {
    const Map m = r.map(v, {"action", "type", "who", "by", "note"});
    AlarmAction a;
    const std::string k = r.one_of(m.req("action"), {"ack", "handle", "close"}, "alarm action");
    a.kind = k == "ack" ? AlarmAction::Kind::ack : k == "handle" ? AlarmAction::Kind::handle : AlarmAction::Kind::close;
    if (const V* x = m.get("type")) a.type = alarm_type(*x);
    if (const V* x = m.get("who")) a.who = person(*x);
    a.by = person(m.req("by"));
    if (const V* x = m.get("note")) a.note = r.text(*x);
    return a;
  }

  // the single key among `kinds` a mapping carries, with the keys that kind allows checked
  struct Kind {
    std::string key;
    std::vector<std::string> allowed;
  };
  std::size_t pick_kind(const Map& m, const std::vector<Kind>& kinds, const char* what) const {
    std::size_t found = kinds.size();
    const Map::Entry* found_entry = nullptr;
    for (const Map::Entry& e : m.entries())
      for (std::size_t k = 0; k < kinds.size(); ++k)
        if (kinds[k].key == e.key) {
          if (found_entry)
            r.fail(e.key_line, e.value.path,
                   std::string("one ") + what + " per entry: found both '" + found_entry->key + "' and '" + e.key + "'");
          found = k;
          found_entry = &e;
        }
    if (!found_entry) {
      std::vector<std::string> names;
      for (const Kind& k : kinds) names.push_back(k.key);
      r.fail(m.self(), std::string("missing ") + what + ": expected one of the keys " + join(names));
    }
    for (const Map::Entry& e : m.entries())
      if (!contains(kinds[found].allowed, e.key))
        r.fail(e.key_line, e.value.path,
               "key '" + e.key + "' does not apply to " + what + " '" + kinds[found].key +
                   "' (allowed: " + join(kinds[found].allowed) + ")");
    return found;
  }

  void script(const V& v) {
    const std::vector<Kind> kinds = {
        {"go_to", {"t", "who", "go_to", "floor", "speed"}},
        {"walk", {"t", "who", "walk", "speed"}},
        {"place", {"t", "who", "place", "floor"}},
        {"press", {"t", "who", "press"}},
        {"tag", {"t", "who", "tag"}},
        {"battery", {"t", "who", "battery"}},
        {"gate", {"t", "who", "gate", "gate_id"}},
        {"permit", {"t", "permit"}},
        {"alarm", {"t", "alarm"}},
    };
    std::vector<std::string> all = {"t", "who", "floor", "speed", "gate_id"};
    for (const Kind& k : kinds) all.push_back(k.key);
    for (const V& e : r.seq(v, "a list of actions")) {
      const Map m = r.map(e, all);
      const std::size_t k = pick_kind(m, kinds, "action");
      const std::string& key = kinds[k].key;
      const V& val = *m.get(key);
      ScriptAction a;
      a.line = e.line;
      a.t = run_time(m.req("t"));
      const bool person_action = key != "permit" && key != "alarm";
      if (person_action) a.who = who(m.req("who"));
      if (const V* x = m.get("floor")) {
        a.floor = floor_id(r, *x);
        check_floor(r, sc.site, *x, *a.floor);
      }
      if (const V* x = m.get("speed")) a.speed = r.positive(*x);
      if (key == "go_to" || key == "place") {
        a.kind = key == "go_to" ? ScriptAction::Kind::go_to : ScriptAction::Kind::place;
        a.path.push_back(r.point(val));
      } else if (key == "walk") {
        a.kind = ScriptAction::Kind::walk;
        for (const V& p : r.seq(val, "a list of points [[x, y], ...]")) a.path.push_back(r.point(p));
        if (a.path.empty()) r.fail(val, "expected at least one point, found an empty list");
      } else if (key == "press") {
        r.one_of(val, {"sos"}, "button");
        a.kind = ScriptAction::Kind::sos;
      } else if (key == "tag") {
        const std::string s = r.one_of(val, {"off", "on"}, "tag state");  // the text: `off` is not a boolean here
        a.kind = s == "off" ? ScriptAction::Kind::tag_off : ScriptAction::Kind::tag_on;
      } else if (key == "battery") {
        a.kind = ScriptAction::Kind::battery;
        a.battery = r.in_range(val, 0, 1);
      } else if (key == "gate") {
        a.kind = ScriptAction::Kind::gate;
        a.gate_in = r.one_of(val, {"in", "out"}, "gate direction") == "in";
        if (const V* x = m.get("gate_id")) a.gate_id = r.text(*x);
      } else if (key == "permit") {
        a.kind = ScriptAction::Kind::permit;
        a.permit = permit(val);
      } else {
        a.kind = ScriptAction::Kind::alarm;
        a.alarm = alarm_action(val);
      }
      // tag actions need a tag
      if (a.kind == ScriptAction::Kind::sos || a.kind == ScriptAction::Kind::tag_off ||
          a.kind == ScriptAction::Kind::tag_on || a.kind == ScriptAction::Kind::battery) {
        const V& wv = m.req("who");
        for (const std::string& id : a.who)
          if (!people.at(id)->tag) r.fail(wv, "person '" + id + "' carries no tag");
      }
      sc.script.push_back(std::move(a));
    }
  }

  std::string zone_id(const V& v) const {
    const std::string id = r.nonempty_text(v, "a zone id");
    for (const Zone& z : sc.site.zones)
      if (z.id == id) return id;
    std::vector<std::string> ids;
    for (const Zone& z : sc.site.zones) ids.push_back(z.id);
    r.fail(v, "unknown zone '" + id + "' (the site defines: " + join(ids) + ")");
  }

  static std::string flow_text(const YAML::Node& n) {
    YAML::Emitter e;
    e.SetMapFormat(YAML::Flow);
    e.SetSeqFormat(YAML::Flow);
    e << n;
    return e.c_str();
  }

  void expectations(const V& v) {
    const std::vector<Kind> kinds = {
        {"alarm", {"alarm", "level", "code", "who", "zone", "permit", "event", "between", "count", "req"}},
        {"no_alarm", {"no_alarm", "level", "code", "who", "zone", "permit", "during", "req"}},
        {"refused", {"refused", "code", "req"}},
        {"permit_status", {"permit_status", "at", "req"}},
        {"zone_count", {"zone_count", "at", "req"}},
        {"camera_call", {"camera_call", "req"}},
        {"accuracy", {"accuracy", "req"}},
        {"alarm_quality", {"alarm_quality", "req"}},
        {"alarm_delay", {"alarm_delay", "req"}},
        {"radio_link", {"radio_link", "req"}},
    };
    std::vector<std::string> all = {"level", "code", "who", "zone", "permit", "event", "between", "count", "during", "at",
                                    "req"};
    for (const Kind& k : kinds) all.push_back(k.key);
    for (const V& e : r.seq(v, "a list of expectations")) {
      const Map m = r.map(e, all);
      const std::size_t k = pick_kind(m, kinds, "expectation");
      const V& val = *m.get(kinds[k].key);
      Expectation x;
      x.kind = static_cast<Expectation::Kind>(k);
      x.line = e.line;
      x.text = flow_text(e.node);
      if (const V* q = m.get("req")) x.req = r.nonempty_text(*q, "a requirement id");
      switch (x.kind) {
        case Expectation::Kind::alarm:
        case Expectation::Kind::no_alarm:
          x.type = alarm_type(val);
          if (const V* q = m.get("level")) x.level = alarm_level(*q);
          if (const V* q = m.get("code")) x.code = code_enum(*q);
          if (const V* q = m.get("who")) x.who = person(*q);
          if (const V* q = m.get("zone")) x.zone = zone_id(*q);
          if (const V* q = m.get("permit")) x.permit = r.nonempty_text(*q, "a permit id");
          if (x.kind == Expectation::Kind::alarm) {
            if (const V* q = m.get("event")) x.event = r.one_of(*q, kAlarmEvents, "alarm event");
            x.window = window(m.req("between"));
            if (const V* q = m.get("count")) x.count = r.count(*q);
          } else if (const V* q = m.get("during")) {
            x.window = window(*q);
          }
          break;
        case Expectation::Kind::refused: {
          const Map rm = r.map(val, {"permit", "action"});
          x.permit = r.nonempty_text(rm.req("permit"), "a permit id");
          x.action = r.one_of(rm.req("action"), kPermitActions, "permit action");
          if (const V* q = m.get("code")) x.code = code_enum(*q);
          break;
        }
        case Expectation::Kind::permit_status: {
          const Map pm = r.map(val, {"id", "status"});
          x.permit = r.nonempty_text(pm.req("id"), "a permit id");
          x.status = r.one_of(pm.req("status"), kPermitStatuses, "permit status");
          x.at = run_time(m.req("at"));
          break;
        }
        case Expectation::Kind::zone_count: {
          const Map zm = r.map(val, {"zone", "count"});
          x.zone = zone_id(zm.req("zone"));
          x.expected_count = r.count(zm.req("count"));
          x.at = run_time(m.req("at"));
          break;
        }
        case Expectation::Kind::camera_call: {
          const Map cm = r.map(val, {"type", "camera"});
          x.type = alarm_type(cm.req("type"));
          const V& cv = cm.req("camera");
          x.camera = r.nonempty_text(cv, "a camera id");
          bool known = false;
          std::vector<std::string> ids;
          for (const Camera& c : sc.site.cameras) {
            known = known || c.id == x.camera;
            ids.push_back(c.id);
          }
          if (!known) r.fail(cv, "unknown camera '" + x.camera + "' (the site defines: " + join(ids) + ")");
          break;
        }
        case Expectation::Kind::accuracy: {
          const Map am = r.map(val, {"cdf68_max", "cdf95_max", "median_max", "rmse_max", "max_max", "fix_share_min",
                                     "fixes_min", "twin_cdf68_within"});
          auto opt = [&](const char* name, std::optional<double>& dst) {
            if (const V* q = am.get(name)) dst = r.nonneg(*q);
          };
          opt("cdf68_max", x.cdf68_max);
          opt("cdf95_max", x.cdf95_max);
          opt("median_max", x.median_max);
          opt("rmse_max", x.rmse_max);
          opt("max_max", x.max_max);
          if (const V* q = am.get("fix_share_min")) x.fix_share_min = r.in_range(*q, 0, 1);
          if (const V* q = am.get("fixes_min")) {
            const double n = r.nonneg(*q);
            if (n != std::floor(n) || n > 1e15) r.fail(*q, "expected a whole number >= 0, found " + describe(q->node));
            x.fixes_min = static_cast<std::uint64_t>(n);
          }
          opt("twin_cdf68_within", x.twin_cdf68_within);
          if (!x.cdf68_max && !x.cdf95_max && !x.median_max && !x.rmse_max && !x.max_max && !x.fix_share_min &&
              !x.fixes_min && !x.twin_cdf68_within)
            r.fail(val, "expected at least one of cdf68_max, cdf95_max, median_max, rmse_max, max_max, fix_share_min, fixes_min, "
                        "twin_cdf68_within");
          if (x.twin_cdf68_within && !sc.recorded.twin_scenario)
            r.fail(*am.get("twin_cdf68_within"), "twin_cdf68_within needs recorded.twin");
          break;
        }
        case Expectation::Kind::alarm_quality: {
          const Map am = r.map(val, {"missed_max", "false_max"});
          x.missed_max = r.in_range(am.req("missed_max"), 0, 1);
          x.false_max = r.in_range(am.req("false_max"), 0, 1);
          break;
        }
        case Expectation::Kind::alarm_delay: {
          const Map am = r.map(val, {"p95_max"});
          x.p95_max = to_seconds(r.duration(am.req("p95_max")));
          break;
        }
        case Expectation::Kind::radio_link: {
          const Map lm = r.map(val, {"tag", "anchor", "median", "p95", "nlos_share", "dropped_share"});
          const V& tv = lm.req("tag");
          x.tag = r.nonempty_text(tv, "a tag id");
          std::vector<std::string> tags;
          for (const PersonDef& p : sc.people)
            if (p.tag) tags.push_back(*p.tag);
          if (!contains(tags, x.tag)) r.fail(tv, "unknown tag '" + x.tag + "' (people carry: " + join(tags) + ")");
          const V& av = lm.req("anchor");
          x.anchor = r.nonempty_text(av, "an anchor id");
          std::vector<std::string> anchors;
          for (const Anchor& a : sc.site.anchors) anchors.push_back(a.id);
          if (!contains(anchors, x.anchor)) r.fail(av, "unknown anchor '" + x.anchor + "' (the site defines: " + join(anchors) + ")");
          auto bounds = [&](const char* name, double lo, double hi) -> std::optional<std::pair<double, double>> {
            const V* b = lm.get(name);
            if (!b) return std::nullopt;
            const std::vector<double> xs = r.numbers(*b, 2, 2, "bounds [lo, hi]");
            if (xs[0] < lo || xs[1] > hi) {
              std::ostringstream os;
              os << "bounds must lie within [" << lo << ", " << hi << "]";
              r.fail(*b, os.str());
            }
            if (xs[1] < xs[0]) r.fail(*b, "the upper bound is below the lower one");
            return std::make_pair(xs[0], xs[1]);
          };
          x.median = bounds("median", -1e6, 1e6);
          x.p95 = bounds("p95", -1e6, 1e6);
          x.nlos_share = bounds("nlos_share", 0, 1);
          x.dropped_share = bounds("dropped_share", 0, 1);
          if (!x.median && !x.p95 && !x.nlos_share && !x.dropped_share)
            r.fail(val, "expected at least one of median, p95, nlos_share, dropped_share");
          break;
        }
      }
      sc.expect.push_back(std::move(x));
    }
  }

  // radio: any mapping, flattened to "a.b" -> scalar text ("a[0]" for list items)
  void flatten(const V& v, const std::string& prefix) {
    if (v.node.IsMap()) {
      const Map m = r.free_map(v);
      for (const Map::Entry& e : m.entries()) flatten(e.value, prefix.empty() ? e.key : prefix + "." + e.key);
    } else if (v.node.IsSequence()) {
      std::size_t i = 0;
      for (const V& e : r.seq(v)) flatten(e, item(prefix, i++));
    } else {
      sc.radio[prefix] = v.node.IsScalar() ? v.node.Scalar() : std::string();
      radio_lines[prefix] = v.line;
    }
  }
  // every radio key and value against the radio model's (sim/radio/radio.h), after the site is read
  void check_radio() const {
    RadioParams p = radio_defaults(sc.site);
    std::string key, message;
    if (apply_radio_overrides(sc.radio, p, key, message)) return;
    const auto it = radio_lines.find(key);
    r.fail(it == radio_lines.end() ? 0 : it->second, "radio." + key, message);
  }
};

void load_site_from(const std::string& text, const std::string& file, Site& out) {
  const YAML::Node root = parse_yaml(text, file);
  const Reader r(file);
  const V v{root, "", mark_line(root, 1)};
  if (!root.IsMap()) r.fail(v, "expected a site mapping at the top level, found " + describe(root));
  out = Site{};
  out.file = file;
  read_site(r, v, false, "", out);
}

void load_scenario_from(const std::string& text, const std::string& file, Scenario& sc) {
  const YAML::Node root = parse_yaml(text, file);
  const Reader r(file);
  const V v{root, "", mark_line(root, 1)};
  if (!root.IsMap()) r.fail(v, "expected a scenario mapping at the top level, found " + describe(root));
  const Map m = r.map(v, {"scenario", "description", "requirements", "site", "start", "duration", "seed", "positioning",
                          "recorded", "fix_rate", "radio", "rules", "calendar", "duty", "drill", "people", "script", "expect"});
  sc = Scenario{};
  sc.file = file;
  sc.scenario_sha256 = sha256_hex(text);
  sc.name = r.nonempty_text(m.req("scenario"), "a scenario name");
  if (const V* x = m.get("description")) sc.description = r.text(*x);
  if (const V* x = m.get("requirements")) sc.requirements = r.strings(*x, "a list of requirement ids");
  if (const V* x = m.get("start")) {
    if (!x->node.IsScalar() || !parse_datetime(x->node.Scalar(), sc.clock.start_unix_s, sc.clock.utc_offset_min))
      r.fail(*x, "expected an ISO 8601 date-time with offset like 2026-01-05T08:00:00+08:00, found " +
                     describe(x->node));
  }
  sc.duration = r.positive_duration(m.req("duration"));
  if (const V* x = m.get("seed")) {
    unsigned long long s = 0;
    const std::string t = x->node.IsScalar() ? x->node.Scalar() : std::string();
    const auto res = std::from_chars(t.data(), t.data() + t.size(), s);
    if (t.empty() || res.ec != std::errc() || res.ptr != t.data() + t.size())
      r.fail(*x, "expected a whole number >= 0, found " + describe(x->node));
    sc.seed = s;
  }
  if (const V* x = m.get("positioning")) {
    const std::vector<std::string> modes = {"truth", "simulated", "recorded"};
    auto mode_of = [](const std::string& s) {
      return s == "truth" ? Positioning::Mode::truth : s == "simulated" ? Positioning::Mode::simulated : Positioning::Mode::recorded;
    };
    if (x->node.IsMap()) {
      const Map pm = r.map(*x, {"mode", "noise_sigma"});
      if (const V* mode = pm.get("mode")) sc.positioning.mode = mode_of(r.one_of(*mode, modes, "positioning mode"));
      if (const V* n = pm.get("noise_sigma")) {
        if (sc.positioning.mode != Positioning::Mode::truth) r.fail(*n, "noise_sigma applies to positioning mode truth only");
        sc.positioning.noise_sigma = r.nonneg(*n);
      }
    } else {
      sc.positioning.mode = mode_of(r.one_of(*x, modes, "positioning mode"));
    }
  }
  // recorded: the logs (docs/recorded.md); paths relative to this file's folder
  if (const V* x = m.get("recorded")) {
    if (sc.positioning.mode != Positioning::Mode::recorded) r.fail(*x, "recorded applies to positioning: recorded only");
    const Map rm = r.map(*x, {"ranges", "tdoa", "truth", "epoch", "hold", "evaluate", "twin"});
    const std::filesystem::path dir = std::filesystem::path(file).parent_path();
    auto path_of = [&](const char* key) -> std::string {
      const V* pv = rm.get(key);
      if (!pv) return {};
      const std::string p = (dir / r.nonempty_text(*pv, "a file path")).string();
      std::error_code ec;
      if (!std::filesystem::is_regular_file(p, ec)) r.fail(*pv, "cannot read '" + p + "': no such file");
      return p;
    };
    sc.recorded.ranges = path_of("ranges");
    sc.recorded.tdoa = path_of("tdoa");
    sc.recorded.truth = path_of("truth");
    if (sc.recorded.ranges.empty() && sc.recorded.tdoa.empty()) r.fail(*x, "expected ranges or tdoa (or both)");
    if (const V* e = rm.get("epoch")) sc.recorded.epoch = r.positive_duration(*e);
    if (const V* e = rm.get("hold")) sc.recorded.hold = r.duration(*e);
    if (const V* e = rm.get("evaluate")) {
      const Map em = r.map(*e, {"from", "to"});
      const Micros from = em.get("from") ? r.duration(*em.get("from")) : 0;
      const Micros to = em.get("to") ? r.duration(*em.get("to")) : std::numeric_limits<Micros>::max();
      if (to < from) r.fail(*e, "the window ends before it begins");
      sc.recorded.evaluate = std::make_pair(from, to);
    }
    if (const V* t = rm.get("twin")) {
      sc.recorded.twin = path_of("twin");
      auto twin = std::make_shared<Scenario>();
      if (auto err = load_scenario_file(sc.recorded.twin, *twin)) r.fail(*t, "the twin does not load: " + err->to_string());
      if (twin->positioning.mode != Positioning::Mode::simulated)
        r.fail(*t, "the twin '" + sc.recorded.twin + "' must have positioning: simulated");
      sc.recorded.twin_scenario = std::move(twin);
    }
  } else if (sc.positioning.mode == Positioning::Mode::recorded) {
    r.fail(v, "positioning: recorded needs a recorded: mapping (ranges, truth, ...)");
  }
  if (const V* x = m.get("fix_rate")) sc.fix_rate = r.positive(*x);

  ScenarioReader sr{r, sc, {}, {}};
  if (const V* x = m.get("radio")) {
    if (!x->node.IsMap() && !x->node.IsNull()) r.fail(*x, "expected a mapping, found " + describe(x->node));
    sr.flatten(*x, "");
  }

  // the site: a path relative to this file's folder, or inline
  const V& sv = m.req("site");
  if (sv.node.IsMap()) {
    read_site(r, sv, true, sc.name, sc.site);
    sc.site.file = "";
    sc.site_sha256 = "";
  } else {
    const std::string rel = r.nonempty_text(sv, "a site file path or an inline site mapping");
    const std::filesystem::path path = std::filesystem::path(file).parent_path() / rel;
    std::string bytes, why;
    if (!read_file(path.string(), bytes, why)) r.fail(sv, "cannot read site file '" + path.string() + "': " + why);
    load_site_from(bytes, path.string(), sc.site);
    sc.site_sha256 = site_sha256(bytes, sc.site);
  }
  if (const V* x = m.get("rules")) RulesReader{r}.apply(*x, sc.site.rules);
  if (const V* x = m.get("calendar")) CalendarReader{r, sc.site.timezone_min}.apply(*x, sc.site.calendar);
  sr.check_radio();

  sr.person_defs(m.req("people"));
  if (const V* x = m.get("duty")) {
    for (const V& e : r.seq(*x, "a list of shifts {person, from, to}")) {
      const Map dm = r.map(e, {"person", "from", "to"});
      DutyShift d;
      d.person = sr.person(dm.req("person"));
      d.from = dm.get("from") ? sr.any_time(*dm.get("from")) : 0;
      d.to = dm.get("to") ? sr.any_time(*dm.get("to")) : sc.duration;
      if (d.to < d.from) r.fail(dm.get("to") ? *dm.get("to") : e, "the shift ends before it begins");
      sc.duty.push_back(d);
    }
  }
  if (const V* x = m.get("drill")) {
    const Map dm = r.map(*x, {"ack", "handle"});
    if (const V* y = dm.get("ack")) sc.drill.ack = r.duration(*y);
    if (const V* y = dm.get("handle")) sc.drill.handle = r.duration(*y);
  }
  if (const V* x = m.get("script")) sr.script(*x);
  if (const V* x = m.get("expect")) sr.expectations(*x);
}

template <class F>
std::optional<LoadError> guarded(const std::string& file, F&& f) {
  try {
    f();
  } catch (const Failure& e) {
    return e.error;
  } catch (const YAML::Exception& e) {
    return LoadError{file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", e.msg};
  }
  return std::nullopt;
}

}  // namespace

std::string site_sha256(const std::string& site_bytes, const Site& site) {
  std::string meshes;
  for (const Obstacle& o : site.obstacles)
    if (o.mesh) meshes += "mesh " + o.id + " " + o.mesh->sha256 + "\n";
  return meshes.empty() ? sha256_hex(site_bytes) : sha256_hex(site_bytes + "\n" + meshes);
}

std::optional<LoadError> load_site_text(const std::string& text, const std::string& file, Site& out) {
  return guarded(file, [&] { load_site_from(text, file, out); });
}

std::optional<LoadError> load_site_file(const std::string& path, Site& out) {
  std::string bytes, why;
  if (!read_file(path, bytes, why)) return LoadError{path, 0, "", "cannot read site file: " + why};
  return load_site_text(bytes, path, out);
}

std::optional<LoadError> load_scenario_text(const std::string& text, const std::string& file, Scenario& out) {
  return guarded(file, [&] { load_scenario_from(text, file, out); });
}

std::optional<LoadError> load_scenario_file(const std::string& path, Scenario& out) {
  std::string bytes, why;
  if (!read_file(path, bytes, why)) return LoadError{path, 0, "", "cannot read scenario file: " + why};
  return load_scenario_text(bytes, path, out);
}

}  // namespace planttwin

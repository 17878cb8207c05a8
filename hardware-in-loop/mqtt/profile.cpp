#include "hardware-in-loop/mqtt/profile.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "engine/time.h"
#include "hardware-in-loop/vendor_time.h"

namespace planttwin::hil::mqtt {

// The bundled profiles (profiles/mqtt/*.yaml), embedded at build time (bundled_profiles.cpp).
extern const std::pair<const char*, const char*> kBundledProfiles[];
extern const std::size_t kBundledProfileCount;

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<std::string> bundled_profiles() {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < kBundledProfileCount; ++i) v.emplace_back(kBundledProfiles[i].first);
  return v;
}

namespace {

std::string where(const std::string& file, const YAML::Node& n, const std::string& key) {
  const int line = n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 1;
  return file + ":" + std::to_string(line) + ": key '" + key + "': ";
}

bool scalar(const YAML::Node& n, const std::string& file, const std::string& key, std::string& out, std::string& error) {
  if (!n.IsScalar()) {
    error = where(file, n, key) + "must be a text value";
    return false;
  }
  out = n.as<std::string>();
  return true;
}

bool number(const YAML::Node& n, const std::string& file, const std::string& key, double& out, std::string& error) {
  try {
    if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "not a scalar");
    out = n.as<double>();
    if (!std::isfinite(out)) throw YAML::Exception(n.Mark(), "not finite");
    return true;
  } catch (const YAML::Exception&) {
    error = where(file, n, key) + "must be a finite number";
    return false;
  }
}

}  // namespace

namespace {
bool parse_profile_unchecked(const std::string& text, const std::string& file, Profile& p, std::string& error);
}  // namespace

// Any YAML node of an unexpected kind the checks below do not name (a complex key such as
// `? tag: ...`, which fuzz_mqtt found throwing out of here) is refused with file and line.
bool parse_profile(const std::string& text, const std::string& file, Profile& p, std::string& error) {
  try {
    return parse_profile_unchecked(text, file, p, error);
  } catch (const YAML::Exception& e) {
    error = file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return false;
  }
}

namespace {
bool parse_profile_unchecked(const std::string& text, const std::string& file, Profile& p, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    error = file + ":" + std::to_string(e.mark.line + 1) + ": not YAML: " + e.msg;
    return false;
  }
  if (!root.IsMap()) {
    error = file + ":1: a profile is a mapping (profile, topics, fields, units, time_format ...)";
    return false;
  }
  p = Profile{};
  p.file = file;
  p.name = fs::path(file).stem().string();
  static const std::set<std::string> kTop = {"profile", "topics", "fields", "units", "time_format", "tag_prefix", "battery_scale", "transform"};
  static const std::set<std::string> kFields = {"records", "tag", "x", "y", "z", "floor", "time", "valid", "sos", "battery"};
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (!kTop.count(key)) {
      error = where(file, kv.first, key) + "unknown key (known: profile, topics, fields, units, time_format, tag_prefix, battery_scale, transform)";
      return false;
    }
    if (key == "profile") {
      if (!scalar(v, file, key, p.name, error)) return false;
    } else if (key == "tag_prefix") {
      if (!scalar(v, file, key, p.tag_prefix, error)) return false;
    } else if (key == "topics") {
      if (!v.IsSequence() || v.size() == 0) {
        error = where(file, v, key) + "a non-empty list of MQTT topic filters";
        return false;
      }
      for (const auto& t : v) {
        std::string s;
        if (!scalar(t, file, key, s, error)) return false;
        if (s.empty()) {
          error = where(file, t, key) + "an empty topic filter";
          return false;
        }
        p.topics.push_back(s);
      }
    } else if (key == "fields") {
      if (!v.IsMap()) {
        error = where(file, v, key) + "a mapping of field -> JSON pointer";
        return false;
      }
      for (const auto& f : v) {
        const std::string fk = f.first.as<std::string>();
        if (!kFields.count(fk)) {
          error = where(file, f.first, "fields." + fk) + "unknown field (known: records, tag, x, y, z, floor, time, valid, sos, battery)";
          return false;
        }
        std::string ptr;
        if (!scalar(f.second, file, "fields." + fk, ptr, error)) return false;
        if (!ptr.empty() && ptr[0] != '/') {
          error = where(file, f.second, "fields." + fk) + "'" + ptr + "' is not a JSON pointer (RFC 6901: starts with '/', e.g. /data/coordinates/x)";
          return false;
        }
        try {
          (void)json::json_pointer(ptr);
        } catch (const json::exception& e) {
          error = where(file, f.second, "fields." + fk) + "'" + ptr + "' is not a valid JSON pointer";
          return false;
        }
        std::string* slot = fk == "records" ? &p.records : fk == "tag" ? &p.tag : fk == "x" ? &p.x : fk == "y" ? &p.y : fk == "z" ? &p.z
                          : fk == "floor" ? &p.floor : fk == "time" ? &p.time : fk == "valid" ? &p.valid : fk == "sos" ? &p.sos : &p.battery;
        *slot = ptr;
      }
    } else if (key == "units") {
      if (!scalar(v, file, key, p.units, error)) return false;
      if (p.units == "m") p.unit_scale = 1;
      else if (p.units == "dm") p.unit_scale = 0.1;
      else if (p.units == "cm") p.unit_scale = 0.01;
      else if (p.units == "mm") p.unit_scale = 0.001;
      else {
        error = where(file, v, key) + "'" + p.units + "' is not a unit of length (m, dm, cm, mm)";
        return false;
      }
    } else if (key == "time_format") {
      std::string s;
      if (!scalar(v, file, key, s, error)) return false;
      if (s == "unix_s") p.time_format = TimeFormat::unix_s;
      else if (s == "unix_ms") p.time_format = TimeFormat::unix_ms;
      else if (s == "unix_us") p.time_format = TimeFormat::unix_us;
      else if (s == "iso8601") p.time_format = TimeFormat::iso8601;
      else if (s == "arrival") p.time_format = TimeFormat::arrival;
      else {
        error = where(file, v, key) + "'" + s + "' is not a time format (unix_s, unix_ms, unix_us, iso8601, arrival)";
        return false;
      }
    } else if (key == "battery_scale") {
      if (!number(v, file, key, p.battery_scale, error)) return false;
      if (p.battery_scale <= 0) {
        error = where(file, v, key) + "must be > 0 (100 for percent)";
        return false;
      }
    } else if (key == "transform") {
      if (!v.IsMap()) {
        error = where(file, v, key) + "a mapping {rotate_deg, scale, translate: [x, y, z?]}";
        return false;
      }
      p.has_transform = true;
      for (const auto& t : v) {
        const std::string tk = t.first.as<std::string>();
        if (tk == "rotate_deg") {
          if (!number(t.second, file, "transform.rotate_deg", p.rotate_deg, error)) return false;
        } else if (tk == "scale") {
          if (!number(t.second, file, "transform.scale", p.scale, error)) return false;
          if (p.scale <= 0) {
            error = where(file, t.second, "transform.scale") + "must be > 0";
            return false;
          }
        } else if (tk == "translate") {
          if (!t.second.IsSequence() || t.second.size() < 2 || t.second.size() > 3) {
            error = where(file, t.second, "transform.translate") + "[x, y] or [x, y, z] in metres";
            return false;
          }
          if (!number(t.second[0], file, "transform.translate", p.dx, error) || !number(t.second[1], file, "transform.translate", p.dy, error))
            return false;
          if (t.second.size() == 3 && !number(t.second[2], file, "transform.translate", p.dz, error)) return false;
        } else {
          error = where(file, t.first, "transform." + tk) + "unknown key (known: rotate_deg, scale, translate)";
          return false;
        }
      }
    }
  }
  if (p.topics.empty()) {
    error = file + ":1: key 'topics': missing (the MQTT topic filters to subscribe to)";
    return false;
  }
  if (p.tag.empty()) {
    error = file + ":1: key 'fields.tag': missing (the JSON pointer of the tag id)";
    return false;
  }
  if (p.x.empty() != p.y.empty()) {
    error = file + ":1: key 'fields." + std::string(p.x.empty() ? "x" : "y") + "': give both x and y, or neither";
    return false;
  }
  if (p.x.empty() && p.sos.empty() && p.battery.empty()) {
    error = file + ":1: key 'fields': nothing to read (give x and y, sos or battery)";
    return false;
  }
  if (p.time.empty() != (p.time_format == TimeFormat::arrival)) {
    error = file + ":1: key 'time_format': " +
            (p.time.empty() ? std::string("a time format needs fields.time") : std::string("fields.time needs a time_format (unix_s, unix_ms, unix_us, iso8601)"));
    return false;
  }
  return true;
}
}  // namespace

bool load_profile(const std::string& name_or_file, Profile& out, std::string& error) {
  std::error_code ec;
  if (fs::is_regular_file(name_or_file, ec)) {
    std::ifstream f(name_or_file, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (!f) {
      error = name_or_file + ":1: cannot read the profile";
      return false;
    }
    return parse_profile(ss.str(), name_or_file, out, error);
  }
  for (std::size_t i = 0; i < kBundledProfileCount; ++i)
    if (name_or_file == kBundledProfiles[i].first) {
      if (!parse_profile(kBundledProfiles[i].second, std::string("profiles/mqtt/") + kBundledProfiles[i].first + ".yaml", out, error)) return false;
      out.file.clear();
      out.name = kBundledProfiles[i].first;
      return true;
    }
  std::string names;
  for (const std::string& n : bundled_profiles()) names += (names.empty() ? "" : ", ") + n;
  error = name_or_file + ": no such profile file, and not a bundled profile (" + names + ")";
  return false;
}

namespace {

const json* at(const json& j, const std::string& ptr) {
  if (ptr.empty()) return nullptr;
  try {
    const json::json_pointer p(ptr);
    if (!j.contains(p)) return nullptr;  // no exception for the usual case of an absent field
    const json& v = j.at(p);
    return v.is_null() ? nullptr : &v;
  } catch (const json::exception&) {
    return nullptr;
  }
}

bool truthy(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return v.get<std::string>() == "true" || v.get<std::string>() == "1";
  return false;
}

bool number_of(const json* v, double& out) {
  if (!v) return false;
  if (v->is_number()) out = v->get<double>();
  else if (v->is_string()) {
    try {
      size_t n = 0;
      out = std::stod(v->get<std::string>(), &n);
      if (n != v->get<std::string>().size()) return false;
    } catch (...) {
      return false;
    }
  } else {
    return false;
  }
  return true;
}

void one_record(const Profile& p, const json& r, std::int64_t arrival_ms, std::vector<Converted>& out, std::vector<Rejected>& rejected,
                std::size_t& no_position) {
  const json* tag = at(r, p.tag);
  if (!tag || !(tag->is_string() || tag->is_number_integer() || tag->is_number_unsigned())) {
    rejected.push_back({"missing_field", "no tag id at " + p.tag});
    return;
  }
  const std::string tag_id = p.tag_prefix + (tag->is_string() ? tag->get<std::string>() : tag->dump());
  std::int64_t ts = arrival_ms;
  if (p.time_format != TimeFormat::arrival) {
    const json* t = at(r, p.time);
    double v = 0;
    if (!t) {
      rejected.push_back({"missing_field", "tag " + tag_id + ": no time at " + p.time});
      return;
    }
    if (p.time_format == TimeFormat::iso8601) {
      if (!t->is_string() || !parse_iso8601_ms(t->get<std::string>(), ts)) {
        rejected.push_back({"bad_field", "tag " + tag_id + ": time at " + p.time + " is not an ISO 8601 date-time"});
        return;
      }
    } else {
      if (!number_of(t, v) || !std::isfinite(v)) {
        rejected.push_back({"bad_field", "tag " + tag_id + ": time at " + p.time + " is not a number"});
        return;
      }
      const double ms = p.time_format == TimeFormat::unix_s ? v * 1000.0 : p.time_format == TimeFormat::unix_us ? v / 1000.0 : v;
      if (!(std::fabs(ms) < 1e15)) {
        rejected.push_back({"bad_field", "tag " + tag_id + ": time at " + p.time + " is out of range"});
        return;
      }
      ts = std::llround(ms);
    }
  }
  bool any = false;
  if (!p.x.empty()) {
    const json* valid = at(r, p.valid);
    const json* xv = at(r, p.x);
    const json* yv = at(r, p.y);
    if (valid && !truthy(*valid)) {
      ++no_position;
    } else if (xv || yv || (p.sos.empty() && p.battery.empty())) {
      double x = 0, y = 0, z = 0;
      if (!number_of(xv, x) || !number_of(yv, y)) {
        rejected.push_back({"missing_field", "tag " + tag_id + ": no number at " + (number_of(xv, x) ? p.y : p.x)});
        return;
      }
      const json* zv = at(r, p.z);
      const bool has_z = number_of(zv, z);
      if (!std::isfinite(x) || !std::isfinite(y) || (has_z && !std::isfinite(z))) {
        rejected.push_back({"not_finite", "tag " + tag_id + ": a coordinate is not finite"});
        return;
      }
      x *= p.unit_scale, y *= p.unit_scale, z *= p.unit_scale;
      if (p.has_transform) {
        const double a = p.rotate_deg * M_PI / 180.0, c = std::cos(a), s = std::sin(a);
        const double xr = p.scale * (c * x - s * y) + p.dx, yr = p.scale * (s * x + c * y) + p.dy;
        x = xr, y = yr, z = p.scale * z + p.dz;
      }
      json f = {{"v", 1}, {"tag", tag_id}, {"ts", ts}, {"x", x}, {"y", y}};
      if (has_z) f["z"] = z;
      if (const json* fl = at(r, p.floor)) f["floor"] = *fl;
      out.push_back({"fix", f.dump()});
      any = true;
    }
  }
  if (const json* s = at(r, p.sos); s && truthy(*s)) {
    out.push_back({"sos", json{{"v", 1}, {"tag", tag_id}, {"ts", ts}}.dump()});
    any = true;
  }
  if (const json* b = at(r, p.battery)) {
    double v = 0;
    if (!number_of(b, v) || !std::isfinite(v)) {
      rejected.push_back({"bad_field", "tag " + tag_id + ": battery at " + p.battery + " is not a number"});
      return;
    }
    out.push_back({"tag_status", json{{"v", 1}, {"tag", tag_id}, {"ts", ts}, {"battery", v / p.battery_scale}}.dump()});
    any = true;
  }
  (void)any;
}

}  // namespace

void convert(const Profile& p, std::string_view payload, std::int64_t arrival_ms, std::vector<Converted>& out, std::vector<Rejected>& rejected,
             std::size_t& no_position) {
  const json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded()) {
    rejected.push_back({"bad_json", "the payload is not JSON"});
    return;
  }
  const json* recs = p.records.empty() ? &j : at(j, p.records);
  if (!recs) {
    rejected.push_back({"missing_field", "no records at " + p.records});
    return;
  }
  if (recs->is_array()) {
    for (const json& r : *recs) {
      if (r.is_object()) one_record(p, r, arrival_ms, out, rejected, no_position);
      else rejected.push_back({"bad_field", "a record is not a JSON object"});
    }
  } else if (recs->is_object()) {
    one_record(p, *recs, arrival_ms, out, rejected, no_position);
  } else {
    rejected.push_back({"bad_field", "the payload is neither a JSON object nor an array of objects"});
  }
}

}  // namespace planttwin::hil::mqtt

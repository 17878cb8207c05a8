// Loader of the import map (docs/import.md). Errors name file:line: key: message, as the site
// loader's do; values are read from their scalar text.
#include "import/import_map.h"
#include "import/yaml_flow.h"
#include "import/control_points.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace planttwin {

const char* to_string(LayerUse u) {
  switch (u) {
    case LayerUse::zone: return "zone";
    case LayerUse::building: return "building";
    case LayerUse::obstacle: return "obstacle";
    case LayerUse::anchor: return "anchor";
    case LayerUse::camera: return "camera";
    case LayerUse::fence: return "fence";
    case LayerUse::label: return "label";
    case LayerUse::ignore: return "ignore";
  }
  return "?";
}

namespace {

struct MapError {
  LoadError e;
};

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& key, const std::string& msg) {
  throw MapError{{file, n.Mark().line >= 0 ? n.Mark().line + 1 : 0, key, msg}};
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

void only_keys(const std::string& file, const YAML::Node& m, const std::string& where, const std::vector<std::string>& allowed) {
  for (const auto& kv : m) {
    const std::string k = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      fail(file, kv.first, where.empty() ? k : where + "." + k, "unknown key (allowed here: " + join(allowed) + ")");
  }
}

double number(const std::string& file, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) fail(file, n, key, "expected a number");
  const std::string s = n.Scalar();
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) fail(file, n, key, "'" + s + "' is not a number");
  return v;
}

double positive(const std::string& file, const YAML::Node& n, const std::string& key) {
  const double v = number(file, n, key);
  if (!(v > 0)) fail(file, n, key, "must be > 0 (is " + n.Scalar() + ")");
  return v;
}

std::string text(const std::string& file, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar() || n.Scalar().empty()) fail(file, n, key, "expected a word");
  return n.Scalar();
}

std::string one_of(const std::string& file, const YAML::Node& n, const std::string& key, const std::vector<std::string>& words) {
  const std::string s = text(file, n, key);
  if (std::find(words.begin(), words.end(), s) == words.end())
    fail(file, n, key, "'" + s + "' is not one of " + join(words));
  return s;
}

const std::vector<std::string> kMaterials = {"concrete", "steel", "brick", "glass", "wood", "metal", "plastic", "cardboard", "foam"};
// zone keys of site-v1 a layer may give every zone it makes (id, name and polygon come from the drawing)
const std::vector<std::string> kZoneKeys = {"kind",       "risk",          "floors",          "z",
                                            "capacity",   "min_staff",     "authorized",      "stay_inside",
                                            "schedule",   "stationary_after", "overstay_after", "permit_required",
                                            "explosion_hazard"};
// keys the drawing makes: a `site:` block may not give them
const std::vector<std::string> kMadeKeys = {"zones", "buildings", "obstacles", "anchors", "cameras"};

void read_layer(const std::string& file, const std::string& name, const YAML::Node& r, LayerRule& rule) {
  const std::string key = "layers." + name;
  rule.layer = name;
  rule.prefix = name;
  rule.line = r.Mark().line + 1;
  if (!r.IsMap()) fail(file, r, key, "expected a mapping such as {as: zone, kind: storage}");
  if (!r["as"]) fail(file, r, key + ".as", "missing (zone, building, obstacle, anchor, camera, fence, label or ignore)");
  const std::string as = one_of(file, r["as"], key + ".as", {"zone", "building", "obstacle", "anchor", "camera", "fence", "label", "ignore"});
  const std::map<std::string, LayerUse> uses = {{"zone", LayerUse::zone},     {"building", LayerUse::building},
                                                {"obstacle", LayerUse::obstacle}, {"anchor", LayerUse::anchor},
                                                {"camera", LayerUse::camera}, {"fence", LayerUse::fence},
                                                {"label", LayerUse::label},   {"ignore", LayerUse::ignore}};
  rule.as = uses.at(as);
  std::vector<std::string> allowed = {"as"};
  auto add = [&](std::initializer_list<const char*> ks) {
    for (const char* k : ks) allowed.emplace_back(k);
  };
  switch (rule.as) {
    case LayerUse::zone:
      add({"prefix"});
      allowed.insert(allowed.end(), kZoneKeys.begin(), kZoneKeys.end());
      break;
    case LayerUse::building: add({"prefix", "height", "base", "floors", "material", "thickness"}); break;
    case LayerUse::obstacle: add({"prefix", "height", "base", "shape", "material"}); break;
    case LayerUse::anchor: add({"prefix", "z"}); break;
    case LayerUse::camera: add({"prefix", "z", "range", "fov", "hfov", "vfov", "pitch", "yaw_offset"}); break;
    default: break;
  }
  only_keys(file, r, key, allowed);
  for (const auto& kv : r) {
    const std::string k = kv.first.Scalar(), kk = key + "." + k;
    const YAML::Node& v = kv.second;
    if (k == "as") continue;
    if (k == "prefix") rule.prefix = text(file, v, kk);
    else if (rule.as == LayerUse::zone) {
      if (k == "kind") one_of(file, v, kk, {"production", "storage", "loading", "high_risk", "major_hazard", "office", "gate", "other"});
      if (k == "risk") one_of(file, v, kk, {"red", "orange", "yellow", "blue"});
      if (k == "capacity" || k == "min_staff") number(file, v, kk);
      rule.zone_keys.emplace_back(k, yaml_flow(v));
    } else if (k == "height") rule.height = positive(file, v, kk);
    else if (k == "base") rule.base = number(file, v, kk);
    else if (k == "floors") {
      const double f = positive(file, v, kk);
      if (f != std::floor(f) || f > 200) fail(file, v, kk, "a whole number of storeys (1 to 200)");
      rule.floors = static_cast<int>(f);
    } else if (k == "material") rule.material = one_of(file, v, kk, kMaterials);
    else if (k == "thickness") rule.thickness = positive(file, v, kk);
    else if (k == "shape") rule.shape = one_of(file, v, kk, {"box", "cylinder"});
    else if (k == "z") rule.z = number(file, v, kk);
    else if (k == "range") rule.range = positive(file, v, kk);
    else if (k == "fov" || k == "hfov") {
      rule.hfov = number(file, v, kk);
      if (rule.hfov <= 0 || rule.hfov > 360) fail(file, v, kk, "degrees in (0, 360]");
    } else if (k == "vfov") {
      rule.vfov = number(file, v, kk);
      if (rule.vfov <= 0 || rule.vfov > 180) fail(file, v, kk, "degrees in (0, 180]");
    } else if (k == "pitch") {
      rule.pitch = number(file, v, kk);
      if (rule.pitch < -90 || rule.pitch > 90) fail(file, v, kk, "degrees in [-90, 90]");
    } else if (k == "yaw_offset") rule.yaw_offset = number(file, v, kk);
  }
  if ((rule.as == LayerUse::building || rule.as == LayerUse::obstacle) && !(rule.height > 0))
    fail(file, r, key + ".height", "missing: how high the " + as + "s of this layer are, in metres");
  if (rule.material.empty()) rule.material = rule.as == LayerUse::building ? "concrete" : "steel";
}

void read_map(const std::string& file, const YAML::Node& root, ImportMap& out) {
  if (!root.IsMap()) fail(file, root, "", "a map file is a YAML mapping (units, origin, site, layers)");
  only_keys(file, root, "", {"units", "origin", "rotation", "arc_tolerance", "encoding", "site", "layers", "control_points",
                             "gk_central_meridian", "altitude"});
  if (const YAML::Node& u = root["units"]) {
    const std::map<std::string, double> units = {{"m", 1}, {"cm", 0.01}, {"mm", 0.001}, {"dm", 0.1}, {"km", 1000}, {"in", 0.0254}, {"ft", 0.3048}};
    const std::string s = text(file, u, "units");
    auto it = units.find(s);
    if (it == units.end()) fail(file, u, "units", "'" + s + "' is not one of m, cm, mm, dm, km, in, ft");
    out.unit_m = it->second;
  }
  if (const YAML::Node& o = root["origin"]) {
    if (!o.IsSequence() || o.size() != 2) fail(file, o, "origin", "expected [x, y] in drawing units");
    out.origin = std::make_pair(number(file, o[0], "origin[0]"), number(file, o[1], "origin[1]"));
  }
  if (const YAML::Node& r = root["rotation"]) out.rotation_deg = number(file, r, "rotation");
  if (const YAML::Node& t = root["arc_tolerance"]) out.arc_tolerance = positive(file, t, "arc_tolerance");
  if (const YAML::Node& e = root["encoding"]) out.encoding = text(file, e, "encoding");
  if (const YAML::Node& s = root["site"]) {
    if (!s.IsMap()) fail(file, s, "site", "expected a mapping of site-v1 keys, e.g. {site: my-plant, timezone: \"+08:00\"}");
    for (const auto& kv : s) {
      const std::string k = kv.first.Scalar();
      if (std::find(kMadeKeys.begin(), kMadeKeys.end(), k) != kMadeKeys.end())
        fail(file, kv.first, "site." + k, "made from the drawing; draw them on a mapped layer instead");
      out.site.emplace_back(k, yaml_flow(kv.second));
    }
  }
  if (const YAML::Node& cm = root["gk_central_meridian"]) {
    out.gk_central_meridian = number(file, cm, "gk_central_meridian");
    if (*out.gk_central_meridian < 70 || *out.gk_central_meridian > 140) fail(file, cm, "gk_central_meridian", "degrees east, China's zones lie in [70, 140]");
  }
  if (const YAML::Node& al = root["altitude"]) out.altitude = number(file, al, "altitude");
  if (const YAML::Node& cps = root["control_points"]) {
    if (!cps.IsSequence()) fail(file, cps, "control_points", "expected a list of {drawing: [x, y], lonlat: [lon, lat]} or {drawing: [x, y], gk: [x, y]}");
    for (std::size_t i = 0; i < cps.size(); ++i) {
      const YAML::Node& c = cps[i];
      const std::string key = "control_points[" + std::to_string(i) + "]";
      if (!c.IsMap()) fail(file, c, key, "expected {drawing: [x, y], lonlat: [lon, lat]} or {drawing: [x, y], gk: [x, y]}");
      only_keys(file, c, key, {"drawing", "lonlat", "gk", "name"});
      MapControlPoint p;
      p.line = c.Mark().line + 1;
      auto pair = [&](const char* k, double& a, double& b) {
        const YAML::Node& v = c[k];
        if (!v.IsSequence() || v.size() != 2) fail(file, v, key + "." + k, "expected two numbers [a, b]");
        a = number(file, v[0], key + "." + k + "[0]");
        b = number(file, v[1], key + "." + k + "[1]");
      };
      if (!c["drawing"]) fail(file, c, key + ".drawing", "missing: the point in the drawing [x, y]");
      pair("drawing", p.x, p.y);
      if (c["lonlat"] && c["gk"]) fail(file, c, key, "give lonlat or gk, not both");
      if (c["lonlat"]) {
        pair("lonlat", p.a, p.b);
        if (p.a < -180 || p.a > 180 || p.b < -90 || p.b > 90) fail(file, c["lonlat"], key + ".lonlat", "[lon, lat] in degrees");
      } else if (c["gk"]) {
        pair("gk", p.a, p.b);
        p.gk = true;
        if (!root["gk_central_meridian"]) fail(file, c["gk"], key + ".gk", "Gauss–Krüger points need gk_central_meridian (e.g. 120 for 3° zone 40)");
      } else {
        fail(file, c, key, "missing: lonlat [lon, lat] (CGCS2000 degrees) or gk [x north, y east] (metres)");
      }
      out.control_points.push_back(p);
    }
    if (root["rotation"]) fail(file, root["rotation"], "rotation", "given together with control_points, which make it; keep one");
  }
  const YAML::Node& layers = root["layers"];
  if (!layers) fail(file, root, "layers", "missing: say what each layer of the drawing is");
  if (!layers.IsMap() || layers.size() == 0) fail(file, layers, "layers", "expected a mapping LAYER: {as: ...}");
  int fences = 0;
  for (const auto& kv : layers) {
    const std::string name = kv.first.Scalar();
    LayerRule rule;
    read_layer(file, name, kv.second, rule);
    if (rule.as == LayerUse::fence) ++fences;
    out.layers.emplace(name, std::move(rule));
  }
  if (fences > 1) fail(file, layers, "layers", "more than one layer is `as: fence`; the site has one boundary");
  if (!out.control_points.empty() && std::any_of(out.site.begin(), out.site.end(), [](const auto& kv) { return kv.first == "origin"; }))
    fail(file, root["site"], "site.origin", "given together with control_points, which make it; keep one");
  bool has_bounds = std::any_of(out.site.begin(), out.site.end(), [](const auto& kv) { return kv.first == "bounds"; });
  if (has_bounds && fences) fail(file, root["site"], "site.bounds", "given here and by a fence layer; keep one");
}

}  // namespace

// flow YAML of a node as written: a scalar quoted in the map stays quoted ("+08:00", "08:00")
std::string yaml_flow(const YAML::Node& n) {
  if (n.IsMap()) {
    std::string s = "{";
    for (const auto& kv : n) s += (s.size() > 1 ? ", " : "") + yaml_flow(kv.first) + ": " + yaml_flow(kv.second);
    return s + "}";
  }
  if (n.IsSequence()) {
    std::string s = "[";
    for (const auto& v : n) s += (s.size() > 1 ? ", " : "") + yaml_flow(v);
    return s + "]";
  }
  if (!n.IsScalar()) return "null";
  const std::string& v = n.Scalar();
  const bool plain = n.Tag() != "!" && !v.empty() && v.find_first_of(":{}[],#&*!|>'\"%@`\n") == std::string::npos &&
                     !(v.front() == '-' && (v.size() == 1 || v[1] == ' ')) && v.front() != ' ' && v.back() != ' ';
  if (plain) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') q += '\\';
    if (c == '\n') {
      q += "\\n";
      continue;
    }
    q += c;
  }
  return q + "\"";
}

std::optional<LoadError> load_import_map_text(const std::string& text_in, const std::string& file, ImportMap& out) {
  out = ImportMap{};
  out.file = file;
  try {
    YAML::Node root = YAML::Load(text_in);
    read_map(file, root, out);
  } catch (const MapError& e) {
    return e.e;
  } catch (const YAML::Exception& e) {
    return LoadError{file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", e.msg};
  }
  return std::nullopt;
}

std::optional<LoadError> load_import_map(const std::string& path, ImportMap& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return LoadError{path, 0, "", "cannot read the map file"};
  std::stringstream ss;
  ss << in.rdbuf();
  return load_import_map_text(ss.str(), path, out);
}

}  // namespace planttwin

namespace planttwin {

bool apply_control_points(ImportMap& map, double unit_m, std::string& report, std::string& error) {
  if (map.control_points.empty()) return true;
  std::vector<GeoControlPoint> pts;
  for (std::size_t i = 0; i < map.control_points.size(); ++i) {
    const MapControlPoint& c = map.control_points[i];
    GeoControlPoint g{c.x, c.y, c.a, c.b, c.line};
    if (c.gk && !gauss_kruger_to_lonlat(c.a, c.b, *map.gk_central_meridian, g.lon, g.lat, error)) {
      error = map.file + ":" + std::to_string(c.line) + ": control_points[" + std::to_string(i) + "].gk: " + error;
      return false;
    }
    pts.push_back(g);
  }
  GeoFit fit;
  const double ox = map.origin ? map.origin->first : 0, oy = map.origin ? map.origin->second : 0;
  if (!fit_control_points(pts, unit_m, ox, oy, fit, error)) {
    error = map.file + ": control_points: " + error;
    return false;
  }
  map.rotation_deg = fit.rotation_deg;
  char b[256];
  std::snprintf(b, sizeof b, "{lat: %.9f, lon: %.9f, alt: %.3f}", fit.lat, fit.lon, map.altitude);
  map.site.emplace_back("origin", b);
  std::snprintf(b, sizeof b, "control points 控制点: %zu, rotation 旋转 %.6f°, origin 原点 lat %.9f lon %.9f; residual 残差 rms %.3f m, max %.3f m\n",
                pts.size(), fit.rotation_deg, fit.lat, fit.lon, fit.rms_m, fit.max_m);
  report = b;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    std::snprintf(b, sizeof b, "  control_points[%zu] (%s:%d): %.3f m%s\n", i, map.file.c_str(), pts[i].line, fit.residual_m[i],
                  static_cast<int>(i) == fit.worst && pts.size() > 2 ? "  <- largest" : "");
    report += b;
  }
  return true;
}

}  // namespace planttwin

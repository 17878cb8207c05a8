// Drawing + map -> site-v1 text. Coordinates: site = R(rotation) * (drawing - origin) * unit, in
// metres, x east, y north; written to the millimetre. Ids: a text inside a shape names it (an
// ASCII first word such as "TF" in "TF 罐区" is its id and the rest its name); else PREFIX-n, n
// counting the layer's shapes in drawing order. The file is checked by the site loader before it
// is written (apps/cmd_import.cpp).
#include "import/site_import.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "engine/geometry.h"

namespace planttwin {

namespace {

using dxf::Entity;
using dxf::EntityKind;
using dxf::Point2;

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.3f", v);
  std::string s = b;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

bool plain_id(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  static const std::set<std::string> words = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"};
  std::string low = s;
  for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !words.count(low);
}

// a YAML scalar: plain when safe, else double-quoted
std::string q(const std::string& s) {
  if (plain_id(s)) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

std::string article(LayerUse u) {
  const std::string w = to_string(u);
  return (std::string("aeiou").find(w[0]) != std::string::npos ? "an " : "a ") + w;
}

std::string where(const Entity& e) { return "layer " + e.layer + ", entity " + (e.handle.empty() ? "?" : e.handle) + " (" + e.type + ")"; }

struct Frame {
  double ox = 0, oy = 0, unit = 1, c = 1, s = 0;
  Vec2 operator()(Point2 p) const {
    const double x = (p.x - ox) * unit, y = (p.y - oy) * unit;
    return {c * x - s * y, s * x + c * y};
  }
};

// one closed shape of a mapped layer, before it is written
struct Shape {
  const Entity* e = nullptr;
  const LayerRule* rule = nullptr;
  Polygon poly;        // site frame
  bool circle = false;
  Vec2 center;
  double radius = 0;   // site metres
  double area = 0;      // m², of poly
  std::string id, name;
  std::vector<std::string> texts;
};

// ring of a circle within `tol` (chord error), site frame
std::vector<Vec2> circle_ring(Vec2 c, double r, double tol) {
  const double step = 2 * std::acos(std::max(-1.0, 1 - tol / r));
  int n = std::max(8, static_cast<int>(std::ceil(2 * M_PI / std::max(step, 1e-3))));
  std::vector<Vec2> v;
  for (int i = 0; i < n; ++i) v.push_back({c.x + r * std::cos(2 * M_PI * i / n), c.y + r * std::sin(2 * M_PI * i / n)});
  return v;
}

double cross(Vec2 o, Vec2 a, Vec2 b) { return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x); }

// proper crossing of segments ab and cd (touching or collinear overlap does not count)
bool segments_cross(Vec2 a, Vec2 b, Vec2 c, Vec2 d) {
  const double d1 = cross(a, b, c), d2 = cross(a, b, d), d3 = cross(c, d, a), d4 = cross(c, d, b);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

bool self_crossing(const std::vector<Vec2>& p) {
  const std::size_t n = p.size();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 2; j < n; ++j) {
      if (i == 0 && j == n - 1) continue;  // neighbours through the closing edge
      if (segments_cross(p[i], p[(i + 1) % n], p[j], p[(j + 1) % n])) return true;
    }
  return false;
}

bool boxes_meet(const Box2& a, const Box2& b) { return a.min.x <= b.max.x && b.min.x <= a.max.x && a.min.y <= b.max.y && b.min.y <= a.max.y; }

bool outlines_cross(const Polygon& a, const Polygon& b) {
  if (!boxes_meet(a.box, b.box)) return false;
  const auto& p = a.pts;
  const auto& r = b.pts;
  for (std::size_t i = 0; i < p.size(); ++i)
    for (std::size_t j = 0; j < r.size(); ++j)
      if (segments_cross(p[i], p[(i + 1) % p.size()], r[j], r[(j + 1) % r.size()])) return true;
  return false;
}

double signed_area(const std::vector<Vec2>& p) {
  double a = 0;
  for (std::size_t i = 0; i < p.size(); ++i) a += p[i].x * p[(i + 1) % p.size()].y - p[(i + 1) % p.size()].x * p[i].y;
  return a / 2;
}

// drop vertices closer than 1 mm to the previous one; counter-clockwise
std::vector<Vec2> clean_ring(std::vector<Vec2> v) {
  std::vector<Vec2> o;
  for (const Vec2& p : v)
    if (o.empty() || dist(o.back(), p) >= 0.0005) o.push_back(p);
  while (o.size() > 1 && dist(o.front(), o.back()) < 0.0005) o.pop_back();
  if (signed_area(o) < 0) std::reverse(o.begin(), o.end());
  return o;
}

std::string polygon_yaml(const Polygon& p) {
  std::string s = "[";
  for (std::size_t i = 0; i < p.pts.size(); ++i) s += (i ? ", [" : "[") + num(p.pts[i].x) + ", " + num(p.pts[i].y) + "]";
  return s + "]";
}

// splits a label into an id and a name: "TF 罐区" -> TF, 罐区; "TK-101" -> TK-101, TK-101; "罐区" -> "", 罐区
void id_and_name(const std::string& text, std::string& id, std::string& name) {
  const std::size_t sp = text.find(' ');
  const std::string first = text.substr(0, sp);
  if (plain_id(first)) {
    id = first;
    name = sp == std::string::npos ? text : text.substr(sp + 1);
    if (name.empty()) name = text;
  } else {
    id.clear();
    name = text;
  }
}

}  // namespace

bool import_site(const dxf::Drawing& d, const ImportMap& map, ImportResult& out, const HandParts* hand) {
  out = ImportResult{};
  Frame f;
  f.unit = d.unit_m;
  if (map.origin) f.ox = map.origin->first, f.oy = map.origin->second;
  f.c = std::cos(map.rotation_deg * M_PI / 180);
  f.s = std::sin(map.rotation_deg * M_PI / 180);
  const double tol = map.arc_tolerance;

  auto bad = [&](const Entity& e, const std::string& why) {
    out.error = where(e) + ": " + why;
    return false;
  };
  auto skip = [&](const Entity& e, const std::string& why) { out.skipped.push_back({e.layer, e.handle, e.type, why}); };
  auto note = [&](const Entity& e, const std::string& why) { out.notes.push_back({e.layer, e.handle, e.type, why}); };

  std::vector<Shape> zones, buildings, obstacles, fences;
  struct Mark {
    const Entity* e;
    const LayerRule* rule;
    double x, y, z, yaw;
    std::string id;
    double range = 0, hfov = 0, vfov = 0, pitch = 0;  // cameras: the layer's, or the insert's attributes
  };
  std::vector<Mark> anchors, cameras;
  std::vector<const Entity*> texts;

  // 1. sort entities by what their layer is
  for (const Entity& e : d.entities) {
    auto it = map.layers.find(e.layer);
    if (it == map.layers.end()) {
      ++out.unmapped[e.layer];
      continue;
    }
    const LayerRule& rule = it->second;
    if (rule.as == LayerUse::ignore) continue;
    if (e.kind == EntityKind::text) {
      texts.push_back(&e);
      continue;
    }
    if (rule.as == LayerUse::label) {
      skip(e, "only texts are read on a label layer");
      continue;
    }
    if (rule.as == LayerUse::anchor || rule.as == LayerUse::camera) {
      if (e.kind != EntityKind::point && e.kind != EntityKind::insert) {
        skip(e, std::string("an ") + to_string(rule.as) + " is a point or a block insert");
        continue;
      }
      if (rule.as == LayerUse::camera && e.kind != EntityKind::insert) {
        skip(e, "a camera is a block insert: its rotation is the camera's yaw");
        continue;
      }
      const Vec2 p = f(e.at);
      Mark m{&e, &rule, p.x, p.y, rule.z ? *rule.z : e.z * d.unit_m, 0, "", rule.range, rule.hfov, rule.vfov, rule.pitch};
      if (e.kind == EntityKind::insert) m.yaw = e.rotation_deg + map.rotation_deg + rule.yaw_offset;
      for (const auto& [tag, value] : e.attributes) {
        std::string t = tag;
        for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if ((t == "ID" || t == "NAME" || t == "TAG" || t == "NO") && m.id.empty()) {
          if (!plain_id(value)) return bad(e, "attribute " + tag + " '" + value + "' is not an id (letters, digits, - _ .)");
          m.id = value;
        }
        // a camera block may carry its own settings as attributes: RANGE (m), HFOV, VFOV, PITCH (degrees)
        if (rule.as == LayerUse::camera && (t == "RANGE" || t == "HFOV" || t == "VFOV" || t == "PITCH")) {
          char* end = nullptr;
          const double v = std::strtod(value.c_str(), &end);
          const bool ok = !value.empty() && end && *end == 0 && std::isfinite(v) &&
                          (t == "RANGE" ? v > 0 : t == "HFOV" ? v > 0 && v <= 360 : t == "VFOV" ? v > 0 && v <= 180 : v >= -90 && v <= 90);
          if (!ok) return bad(e, "attribute " + tag + " '" + value + "' is not a valid " + (t == "RANGE" ? "range in metres (> 0)" : "angle in degrees"));
          (t == "RANGE" ? m.range : t == "HFOV" ? m.hfov : t == "VFOV" ? m.vfov : m.pitch) = v;
        }
      }
      (rule.as == LayerUse::anchor ? anchors : cameras).push_back(m);
      continue;
    }
    // zone, building, obstacle, fence: closed shapes
    Shape s;
    s.e = &e;
    s.rule = &rule;
    if (e.kind == EntityKind::circle) {
      if (!(e.radius > 0)) return bad(e, "circle of radius 0");
      s.circle = true;
      s.center = f(e.center);
      s.radius = e.radius * d.unit_m;
      s.poly.pts = circle_ring(s.center, s.radius, tol);
    } else if (e.kind == EntityKind::polyline) {
      if (!e.closed) {
        skip(e, "open " + std::string(e.type == "LWPOLYLINE" || e.type == "POLYLINE" ? "polyline" : e.type) + " on " + article(rule.as) + " layer: " + article(rule.as) + " needs a closed outline");
        continue;
      }
      std::vector<Vec2> ring;
      for (const Point2& p : e.points) ring.push_back(f(p));
      s.poly.pts = clean_ring(ring);
      if (s.poly.pts.size() >= 4 && self_crossing(s.poly.pts)) return bad(e, "the outline crosses itself");
      if (s.poly.pts.size() < 3 || std::fabs(signed_area(s.poly.pts)) < 1e-6)
        return bad(e, "closed outline with no area (fewer than 3 distinct points, or all on one line)");
    } else if (e.kind == EntityKind::insert) {
      skip(e, "block insert on " + article(rule.as) + " layer: draw the outline itself (closed polyline or circle)");
      continue;
    } else {
      skip(e, std::string(e.type) + " is not read on " + article(rule.as) + " layer (closed polylines and circles are)");
      continue;
    }
    s.poly.finalize();
    s.area = s.poly.area();
    if (rule.as == LayerUse::obstacle) {
      if (rule.shape == "cylinder" && !s.circle) {
        skip(e, "closed polyline on a cylinder layer: tanks and columns are circles");
        continue;
      }
      if (rule.shape == "box" && s.circle) {
        skip(e, "circle on a box layer: racks and walls are closed polylines");
        continue;
      }
    }
    switch (rule.as) {
      case LayerUse::zone: zones.push_back(std::move(s)); break;
      case LayerUse::building: buildings.push_back(std::move(s)); break;
      case LayerUse::obstacle: obstacles.push_back(std::move(s)); break;
      default: fences.push_back(std::move(s)); break;
    }
  }

  // 2. texts name the smallest shape that holds them and no earlier text named (crossing pipe racks):
  // one of their own layer, or any zone for a label layer
  for (const Entity* t : texts) {
    const LayerRule& rule = map.layers.at(t->layer);
    const Vec2 p = f(t->at);
    Shape* best = nullptr;
    auto better = [](const Shape& a, const Shape* b) {
      if (!b) return true;
      if (a.texts.empty() != b->texts.empty()) return a.texts.empty();
      return a.area < b->area;
    };
    auto consider = [&](std::vector<Shape>& v, bool any_layer) {
      for (Shape& s : v)
        if ((any_layer || s.e->layer == t->layer) && s.poly.box.contains(p) && better(s, best) && s.poly.contains(p)) best = &s;
    };
    if (rule.as == LayerUse::label) consider(zones, true);
    else if (rule.as == LayerUse::zone) consider(zones, false);
    else if (rule.as == LayerUse::building) consider(buildings, false);
    else if (rule.as == LayerUse::obstacle) consider(obstacles, false);
    if (t->text.empty()) {
      skip(*t, "empty text");
    } else if (!best) {
      skip(*t, "text '" + t->text + "' lies in no shape it could name");
    } else {
      best->texts.push_back(t->text);
    }
  }

  // 3. ids: from the text, else PREFIX-n; unique across the site's lists
  std::set<std::string> ids_zone, ids_building, ids_obstacle, ids_anchor, ids_camera;
  std::map<std::string, int> counter;
  auto name_shapes = [&](std::vector<Shape>& v, std::set<std::string>& used) -> bool {
    // texts first, so that PREFIX-n numbers never take an id a text gives
    for (Shape& s : v) {
      if (s.texts.size() > 1) note(*s.e, "several texts inside (" + [&] {
        std::string j;
        for (const auto& x : s.texts) j += (j.empty() ? "" : ", ") + x;
        return j;
      }() + "): named by the first, '" + s.texts.front() + "'");
      if (!s.texts.empty()) id_and_name(s.texts.front(), s.id, s.name);
      if (!s.id.empty()) {
        if (used.count(s.id)) return bad(*s.e, "id '" + s.id + "' (from the text inside) is given to another shape too");
        used.insert(s.id);
      }
    }
    for (Shape& s : v) {
      if (!s.id.empty()) continue;
      do s.id = s.rule->prefix + "-" + std::to_string(++counter[s.rule->layer + "\n" + s.rule->prefix]);
      while (used.count(s.id));
      used.insert(s.id);
    }
    return true;
  };
  if (!name_shapes(zones, ids_zone) || !name_shapes(buildings, ids_building) || !name_shapes(obstacles, ids_obstacle)) return false;
  for (auto* list : {&anchors, &cameras}) {
    std::set<std::string>& used = list == &anchors ? ids_anchor : ids_camera;
    for (Mark& m : *list)
      if (!m.id.empty()) {
        if (used.count(m.id)) return bad(*m.e, "id '" + m.id + "' (from the block's attribute) is given to another insert too");
        used.insert(m.id);
      }
    for (Mark& m : *list) {
      if (!m.id.empty()) continue;
      do m.id = m.rule->prefix + "-" + std::to_string(++counter[m.rule->layer + "\n" + m.rule->prefix]);
      while (used.count(m.id));
      used.insert(m.id);
    }
  }

  // 4. overlapping zones (outlines that cross: neither holds the other) are reported and kept
  for (std::size_t i = 0; i < zones.size(); ++i)
    for (std::size_t j = i + 1; j < zones.size(); ++j)
      if (outlines_cross(zones[i].poly, zones[j].poly))
        note(*zones[j].e, "zone " + zones[j].id + " overlaps zone " + zones[i].id + " (outlines cross; both kept: a person in both is in both)");
  // the same outline drawn twice
  for (std::size_t i = 0; i < zones.size(); ++i)
    for (std::size_t j = i + 1; j < zones.size(); ++j)
      if (zones[i].poly.pts == zones[j].poly.pts)
        note(*zones[j].e, "zone " + zones[j].id + " has the same outline as zone " + zones[i].id);

  // 5. the boundary: the largest fence outline
  const Shape* fence = nullptr;
  for (const Shape& s : fences)
    if (!fence || s.area > fence->area) fence = &s;
  for (const Shape& s : fences)
    if (&s != fence) skip(*s.e, "a second outline on the fence layer (the boundary is the largest, entity " + fence->e->handle + ")");

  for (const auto& nb : d.nested_blocks)
    out.skipped.push_back({"", nb.handle, "INSERT",
                           "block " + nb.block + " holds an insert of block " + nb.inner_block +
                               " (nested block): an insert of " + nb.block + " is read at its own insertion point; the inner block is not expanded"});

  // 6. write (with the hand-added parts of an earlier site, for --update)
  auto hand_keys = [&](const char* list, const std::string& id) -> const std::vector<std::pair<std::string, std::string>>* {
    if (!hand) return nullptr;
    auto l = hand->items.find(list);
    if (l == hand->items.end()) return nullptr;
    auto i = l->second.find(id);
    return i == l->second.end() ? nullptr : &i->second;
  };
  auto inline_hand = [&](const char* list, const std::string& id) {
    std::string s;
    if (const auto* v = hand_keys(list, id))
      for (const auto& [k, val] : *v) s += ", " + k + ": " + val;
    return s;
  };
  auto block_hand = [&](const char* list, const std::string& id, const char* indent) {
    std::string s;
    if (const auto* v = hand_keys(list, id))
      for (const auto& [k, val] : *v) s += indent + k + ": " + val + "\n";
    return s;
  };
  std::ostringstream o;
  auto base = [](const std::string& path) { return path.substr(path.find_last_of('/') + 1); };
  o << "# Site made by `planttwin import` from " << base(d.file) << " with the map " << base(map.file) << ".\n"
    << "# Units: 1 drawing unit = " << num(d.unit_m * 1000) << " mm; arcs flattened within " << num(tol) << " m.\n"
    << "# Re-import with --update to keep what was added by hand (docs/import.md).\n";
  bool has_site = false;
  for (const auto& [k, v] : map.site) {
    o << k << ": " << v << "\n";
    has_site = has_site || k == "site";
  }
  if (!has_site) {
    std::string stem = d.file.substr(d.file.find_last_of('/') + 1);
    stem = stem.substr(0, stem.find_last_of('.'));
    o << "site: " << q(stem.empty() ? "imported" : stem) << "\n";
  }
  if (hand)
    for (const auto& [k, v] : hand->top) o << k << ": " << v << "\n";
  if (fence) {
    o << "bounds: " << polygon_yaml(fence->poly) << "   # " << fence->e->layer << " " << fence->e->handle << "\n";
    out.made["bounds"] = 1;
  }
  auto comment = [](const Shape& s) { return "   # " + s.e->layer + " " + s.e->handle + (s.name.empty() || s.name == s.id ? "" : " " + s.name); };
  if (!buildings.empty()) {
    o << "buildings:\n";
    for (const Shape& s : buildings) {
      const LayerRule& r = *s.rule;
      o << "  - id: " << q(s.id) << comment(s) << "\n    footprint: " << polygon_yaml(s.poly) << "\n    floors:\n";
      for (int k = 0; k < r.floors; ++k)
        o << "      - {id: " << k + 1 << ", z: [" << num(r.base + r.height * k / r.floors) << ", " << num(r.base + r.height * (k + 1) / r.floors) << "]}\n";
      o << "    wall: {material: " << r.material << ", thickness: " << num(r.thickness) << "}\n" << block_hand("buildings", s.id, "    ");
    }
  }
  if (!obstacles.empty() || (hand && !hand->models.empty())) {
    o << "obstacles:\n";
    if (hand)
      for (const std::string& m : hand->models) o << "  - " << m << "   # 3D model, kept by hand\n";
    for (const Shape& s : obstacles) {
      if (hand && hand->replaced_by_models.count(s.id)) continue;  // a model by hand has its id
      const LayerRule& r = *s.rule;
      if (s.circle) {
        o << "  - {id: " << q(s.id) << ", shape: cylinder, center: [" << num(s.center.x) << ", " << num(s.center.y) << "], radius: " << num(s.radius)
          << ", z: [" << num(r.base) << ", " << num(r.base + r.height) << "], material: " << r.material << inline_hand("obstacles", s.id) << "}" << comment(s) << "\n";
      } else {
        const Box2& b = s.poly.box;
        const double box_area = (b.max.x - b.min.x) * (b.max.y - b.min.y), area = s.poly.area();
        if (box_area > area * 1.001)
          note(*s.e, "obstacle " + s.id + " is not an axis-aligned rectangle: written as its bounding box (" + num(box_area) + " m² for " + num(area) + " m²)");
        o << "  - {id: " << q(s.id) << ", shape: box, min: [" << num(b.min.x) << ", " << num(b.min.y) << ", " << num(r.base) << "], max: [" << num(b.max.x) << ", "
          << num(b.max.y) << ", " << num(r.base + r.height) << "], material: " << r.material << inline_hand("obstacles", s.id) << "}" << comment(s) << "\n";
      }
    }
  }
  if (!zones.empty()) {
    o << "zones:\n";
    for (const Shape& s : zones) {
      o << "  - id: " << q(s.id) << "   # " << s.e->layer << " " << s.e->handle << "\n";
      if (!s.name.empty() && s.name != s.id) o << "    name: " << q(s.name) << "\n";
      for (const auto& [k, v] : s.rule->zone_keys) o << "    " << k << ": " << v << "\n";
      o << "    polygon: " << polygon_yaml(s.poly) << "\n" << block_hand("zones", s.id, "    ");
    }
  }
  auto marks = [&](const char* key, const std::vector<Mark>& v, bool camera) {
    if (v.empty()) return;
    o << key << ":\n";
    for (const Mark& m : v) {
      o << "  - {id: " << q(m.id) << ", at: [" << num(m.x) << ", " << num(m.y) << ", " << num(m.z) << "]";
      if (camera) {
        double yaw = std::fmod(m.yaw, 360);
        if (yaw < 0) yaw += 360;
        o << ", yaw_deg: " << num(yaw) << ", pitch_deg: " << num(m.pitch) << ", hfov_deg: " << num(m.hfov) << ", vfov_deg: " << num(m.vfov)
          << ", range: " << num(m.range);
      }
      o << inline_hand(key, m.id) << "}   # " << m.e->layer << " " << m.e->handle << "\n";
    }
  };
  marks("anchors", anchors, false);
  marks("cameras", cameras, true);
  out.made["zones"] = static_cast<int>(zones.size());
  out.made["buildings"] = static_cast<int>(buildings.size());
  // the drawn obstacles written (not those a model by hand stands in for)
  out.made["obstacles"] = static_cast<int>(std::count_if(obstacles.begin(), obstacles.end(), [&](const Shape& s) {
    return !hand || !hand->replaced_by_models.count(s.id);
  }));
  out.made["anchors"] = static_cast<int>(anchors.size());
  out.made["cameras"] = static_cast<int>(cameras.size());
  if (!out.made.count("bounds")) out.made["bounds"] = 0;
  out.site_yaml = o.str();
  return true;
}

std::string import_summary(const ImportResult& r) {
  std::ostringstream o;
  auto n = [&](const char* k) { return r.made.count(k) ? r.made.at(k) : 0; };
  o << "made 生成: zones 区域 " << n("zones") << ", buildings 建筑 " << n("buildings") << ", obstacles 障碍物 " << n("obstacles") << ", anchors 基站 "
    << n("anchors") << ", cameras 摄像机 " << n("cameras") << ", boundary 边界 " << (n("bounds") ? "yes 有" : "no 无") << "\n";
  auto list = [&](const char* head, const std::vector<ImportNote>& v) {
    if (v.empty()) return;
    o << head << " (" << v.size() << "):\n";
    for (const ImportNote& x : v) {
      o << "  ";
      if (!x.layer.empty()) o << "layer " << x.layer << ", ";
      if (!x.handle.empty()) o << "entity " << x.handle << " ";
      if (!x.type.empty()) o << "(" << x.type << ")";
      o << ": " << x.reason << "\n";
    }
  };
  list("skipped 未导入", r.skipped);
  list("notes 提示", r.notes);
  if (!r.unmapped.empty()) {
    int total = 0;
    for (const auto& [l, c] : r.unmapped) total += c;
    o << "unmapped layers 未映射图层 (" << r.unmapped.size() << " layers, " << total << " entities; not in the map, left out):\n";
    for (const auto& [l, c] : r.unmapped) o << "  " << l << ": " << c << "\n";
  }
  return o.str();
}

}  // namespace planttwin

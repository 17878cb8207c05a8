// The import map (docs/import.md "The map"): what each layer of a drawing means, the units, the
// origin and the site block copied into the site. Read from YAML; every error names file:line:key.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/loader.h"

namespace planttwin {

enum class LayerUse { zone, building, obstacle, anchor, camera, fence, label, ignore };
const char* to_string(LayerUse u);

struct LayerRule {
  std::string layer;   // DXF layer name, as in the drawing
  LayerUse as = LayerUse::ignore;
  std::string prefix;  // id prefix for shapes no text names; default: the layer name
  int line = 0;        // line of the rule in the map
  // zone: site-v1 zone keys copied into every zone of the layer, as flow YAML text, in map order
  std::vector<std::pair<std::string, std::string>> zone_keys;
  // building, obstacle: heights in metres
  double base = 0;           // bottom of the shape. Default: 0 m
  double height = 0;         // required for buildings and obstacles (> 0)
  int floors = 1;            // building storeys, ids 1..floors, each height/floors high. Default: 1
  std::string material;      // building wall / obstacle material. Default: concrete / steel
  double thickness = 0.24;   // building wall, metres. Default: 0.24
  std::string shape;         // obstacle: "box", "cylinder" or "" (circles -> cylinder, closed polylines -> box)
  // anchor, camera
  std::optional<double> z;   // metres; absent: the entity's own z
  double range = 50, hfov = 90, vfov = 60, pitch = 0;  // camera: metres, degrees
  double yaw_offset = 0;     // camera: added to the insert's rotation (block drawn pointing north: -90). Degrees
};

// A control point as the map gives it: a drawing point and where it is on the ground.
struct MapControlPoint {
  double x = 0, y = 0;  // drawing units
  bool gk = false;      // true: a = x north, b = y east (Gauss–Krüger); false: a = lon, b = lat (degrees)
  double a = 0, b = 0;
  int line = 0;
};

struct ImportMap {
  std::string file;
  std::optional<double> unit_m;              // metres per drawing unit; absent: the drawing's $INSUNITS
  std::optional<std::pair<double, double>> origin;  // drawing point that becomes the site's (0, 0)
  double rotation_deg = 0;                   // drawing x axis to east, counter-clockwise. Default: 0
  double arc_tolerance = 0.05;               // metres, chord error of flattened arcs. Default: 0.05
  std::string encoding;                      // overrides the drawing's $DWGCODEPAGE (e.g. GBK)
  std::vector<std::pair<std::string, std::string>> site;  // `site:` block, key -> flow YAML, map order
  std::map<std::string, LayerRule> layers;   // by layer name
  // control points (docs/import.md): they give `rotation` and the site's `origin` (lat, lon)
  std::vector<MapControlPoint> control_points;
  std::optional<double> gk_central_meridian;  // degrees; required for `gk` points
  double altitude = 0;                        // metres, the site origin's `alt` made from control points
};

// Fits the control points (if any) and sets `rotation_deg` and the `origin` of the site block
// from them. `report`: the fit, one line per point with its residual. false and `error` ("file:line:
// control_points[i]: why") when the fit cannot be made.
bool apply_control_points(ImportMap& map, double unit_m, std::string& report, std::string& error);

// Loads a map. On error returns it and leaves `out` unspecified.
std::optional<LoadError> load_import_map(const std::string& path, ImportMap& out);
std::optional<LoadError> load_import_map_text(const std::string& text, const std::string& file, ImportMap& out);

}  // namespace planttwin

// A DXF drawing as plain data: what the importer needs of each model-space entity, read through
// GDAL's DXF driver (import/drawing.cpp). Coordinates stay in drawing units; nothing is mapped yet.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace planttwin::dxf {

struct Point2 {
  double x = 0, y = 0;
};

enum class EntityKind {
  polyline,  // LWPOLYLINE / POLYLINE (bulges already flattened), LINE, ARC, SPLINE...: `points`
  circle,    // CIRCLE: `center`, `radius` (fitted to GDAL's flattened ring; exact up to rounding)
  point,     // POINT: `at`, `z`
  insert,    // INSERT (block reference): `at`, `z`, `block`, `rotation_deg`, `attributes`
  text,      // TEXT / MTEXT: `at`, `text` (UTF-8, \U+XXXX and MTEXT formatting resolved)
  other,     // anything else (HATCH, DIMENSION, 3DFACE, ...): `type` says what
};

struct Entity {
  EntityKind kind = EntityKind::other;
  std::string layer, handle;  // DXF layer name and entity handle (hex), as in the drawing
  std::string type;           // DXF entity type for messages: LWPOLYLINE, CIRCLE, ARC, LINE, ...
  std::vector<Point2> points; // polyline vertices; closed rings repeat no vertex
  bool closed = false;        // polyline: closed flag or first vertex == last vertex
  Point2 center, at;
  double radius = 0, z = 0, rotation_deg = 0;
  std::string text, block;
  std::vector<std::pair<std::string, std::string>> attributes;  // INSERT attributes: tag, value
};

// A block definition that itself holds a block reference (blocks nested in blocks).
struct NestedBlock {
  std::string block, inner_block, handle;
};

struct Drawing {
  std::string file;
  std::optional<int> insunits;    // $INSUNITS of the header (ASCII DXF only); absent: not given
  double unit_m = 1;              // metres per drawing unit, as used (map's units, else $INSUNITS)
  std::string codepage;           // $DWGCODEPAGE, e.g. ANSI_936 (ASCII DXF only)
  std::vector<Entity> entities;   // model space, in drawing order
  std::vector<NestedBlock> nested_blocks;
};

struct ReadOptions {
  double arc_tolerance_m = 0.05;  // chord error allowed when GDAL flattens arcs and bulges, metres (> 0)
  std::optional<double> unit_m;   // metres per drawing unit; absent: from $INSUNITS
  std::string encoding;           // overrides $DWGCODEPAGE when not empty (e.g. GBK, CP936, UTF-8)
};

// Metres per drawing unit for a $INSUNITS code (1 in, 2 ft, 4 mm, 5 cm, 6 m, 7 km, 10 yd, 14 dm);
// absent for 0 (unitless) and codes a plant drawing does not use.
std::optional<double> insunits_metres(int code);

// Reads `path`. false and `error` ("FILE: why") when GDAL cannot open it as a DXF drawing, or the
// units are known from neither the options nor $INSUNITS.
bool read_drawing(const std::string& path, const ReadOptions& options, Drawing& out, std::string& error);

// read_drawing with a time limit, for drawings from outside: GDAL 3.6's DXF reader never returns
// on some damaged files (fuzz_dxf found one: tests/import/data/fuzz/gdal-dxf-loops.dxf). The file is
// read first in a child process; when that does not finish within `timeout_s`, the child is killed
// and the drawing refused ("FILE: reading it did not finish within N s ..."); otherwise it is read
// here. Costs one more read.
bool read_drawing_within(const std::string& path, const ReadOptions& options, double timeout_s, Drawing& out, std::string& error);

// GDAL flattens arcs, circles and polyline bulges with one angle step (OGR_ARC_STEPSIZE; the
// DXF driver does not apply OGR_ARC_MAX_GAP to them). The chord error of an arc of radius r is
// r (1 - cos(step / 2)); the step is chosen so that it stays within the tolerance for every radius
// up to kMaxArcRadius. Circles are fitted back to centre and radius, so they are exact.
constexpr double kMaxArcRadius_m = 1000;
double arc_step_deg(double tolerance_m);  // clamped to [0.01, 4] degrees

// Least-squares circle through points (Kasa fit); false when fewer than 3 points or collinear.
bool fit_circle(const std::vector<Point2>& pts, Point2& center, double& radius);

// Text as a drawing holds it, made plain: \U+XXXX escapes decoded, MTEXT formatting codes
// (\P, \A1;, \fArial|b0;, {\H2.5;...}, %%c, ...) removed; lines joined by one space; trimmed.
std::string plain_text(const std::string& dxf_text);

}  // namespace planttwin::dxf

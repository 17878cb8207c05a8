// Reading a DXF drawing through GDAL's DXF driver (OGR vector layers "entities" and "blocks").
// Block references are kept as points (DXF_INLINE_BLOCKS=FALSE): anchors and cameras are inserts,
// and their rotation is the camera's yaw. The header ($INSUNITS, $DWGCODEPAGE) and each entity's
// DXF type are read by a plain scan of an ASCII file, which GDAL does not expose; SubClasses and the
// geometry stand in for them in binary files.
#include "import/drawing.h"

#include <gdal/ogrsf_frmts.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace planttwin::dxf {

namespace {

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// What a plain scan of an ASCII DXF tells: header variables and handle -> entity type.
struct Scan {
  std::optional<int> insunits;
  std::string codepage;
  std::map<std::string, std::string> type_by_handle;
};

Scan scan_ascii(const std::string& path) {
  Scan s;
  std::ifstream in(path, std::ios::binary);
  char head[22] = {};
  in.read(head, sizeof head);
  if (std::memcmp(head, "AutoCAD Binary DXF", 18) == 0) return s;  // binary: GDAL alone
  in.clear();
  in.seekg(0);
  std::string code, value, section, header_var, entity;
  bool in_entity = false;
  while (std::getline(in, code) && std::getline(in, value)) {
    const std::string c = trim(code), v = trim(value);
    if (c == "0") {
      if (v == "ENDSEC") section.clear();
      entity = v;
      in_entity = section == "ENTITIES";
      continue;
    }
    if (c == "2" && entity == "SECTION") {
      section = v;
      entity.clear();  // only the name right after "0 SECTION"
      continue;
    }
    if (section == "HEADER") {
      if (c == "9") header_var = v;
      else if (header_var == "$INSUNITS" && c == "70") s.insunits = std::atoi(v.c_str());
      else if (header_var == "$DWGCODEPAGE" && c == "3") s.codepage = v;
    } else if (in_entity && c == "5") {
      s.type_by_handle.emplace(v, entity);
    }
  }
  return s;
}

// DXF type from GDAL's SubClasses field (R2000 and later write subclass markers)
std::string type_from_subclasses(const std::string& sc) {
  auto has = [&](const char* s) { return sc.find(s) != std::string::npos; };
  if (has("AcDbArc")) return "ARC";
  if (has("AcDbCircle")) return "CIRCLE";
  if (has("AcDbPolyline")) return "LWPOLYLINE";
  if (has("AcDb2dPolyline") || has("AcDb3dPolyline")) return "POLYLINE";
  if (has("AcDbLine")) return "LINE";
  if (has("AcDbPoint")) return "POINT";
  if (has("AcDbMText")) return "MTEXT";
  if (has("AcDbText")) return "TEXT";
  if (has("AcDbBlockReference")) return "INSERT";
  if (has("AcDbHatch")) return "HATCH";
  if (has("AcDbSpline")) return "SPLINE";
  if (has("AcDbEllipse")) return "ELLIPSE";
  if (has("AcDbDimension")) return "DIMENSION";
  if (has("AcDbFace")) return "3DFACE";
  if (has("AcDbTrace")) return "SOLID";
  return "";
}

void add_ring(const OGRSimpleCurve& c, Entity& e) {
  for (int i = 0; i < c.getNumPoints(); ++i) {
    const Point2 p{c.getX(i), c.getY(i)};
    // GDAL repeats the start vertex of a bulge's arc; drop exact repeats
    if (!e.points.empty() && e.points.back().x == p.x && e.points.back().y == p.y) continue;
    e.points.push_back(p);
  }
  if (e.points.size() >= 2) {
    const Point2 a = e.points.front(), b = e.points.back();
    const double span = std::max({1.0, std::fabs(a.x), std::fabs(a.y)});
    if (std::fabs(a.x - b.x) <= 1e-9 * span && std::fabs(a.y - b.y) <= 1e-9 * span) {
      e.closed = true;
      e.points.pop_back();
    }
  }
}

// GDAL's DXF settings are process-wide configuration options: one reader at a time
std::mutex gdal_mutex;

std::string field(OGRFeature& f, const char* name) {
  const int i = f.GetFieldIndex(name);
  return i >= 0 && f.IsFieldSetAndNotNull(i) ? f.GetFieldAsString(i) : "";
}

}  // namespace

std::optional<double> insunits_metres(int code) {
  switch (code) {
    case 1: return 0.0254;
    case 2: return 0.3048;
    case 4: return 0.001;
    case 5: return 0.01;
    case 6: return 1.0;
    case 7: return 1000.0;
    case 10: return 0.9144;
    case 14: return 0.1;
    default: return std::nullopt;
  }
}

double arc_step_deg(double tolerance_m) {
  const double step = 2 * std::acos(1 - std::min(tolerance_m / kMaxArcRadius_m, 1.0)) * 180 / M_PI;
  return std::clamp(step, 0.01, 4.0);
}

bool fit_circle(const std::vector<Point2>& pts, Point2& center, double& radius) {
  if (pts.size() < 3) return false;
  // centred on the first point for conditioning; solve [x y 1][D E F]' = -(x^2+y^2)
  const Point2 o = pts.front();
  double sxx = 0, sxy = 0, syy = 0, sx = 0, sy = 0, n = 0, sxz = 0, syz = 0, sz = 0;
  for (const Point2& p : pts) {
    const double x = p.x - o.x, y = p.y - o.y, z = x * x + y * y;
    sxx += x * x, sxy += x * y, syy += y * y, sx += x, sy += y, n += 1;
    sxz += x * z, syz += y * z, sz += z;
  }
  // normal equations, 3x3, Cramer's rule
  const double m[3][3] = {{sxx, sxy, sx}, {sxy, syy, sy}, {sx, sy, n}};
  const double r[3] = {-sxz, -syz, -sz};
  auto det3 = [](const double a[3][3]) {
    return a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
           a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  };
  const double d = det3(m);
  if (!(std::fabs(d) > 1e-12 * std::max(1.0, sxx * syy * n))) return false;
  double sol[3];
  for (int k = 0; k < 3; ++k) {
    double mk[3][3];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) mk[i][j] = j == k ? r[i] : m[i][j];
    sol[k] = det3(mk) / d;
  }
  center = {o.x - sol[0] / 2, o.y - sol[1] / 2};
  const double r2 = sol[0] * sol[0] / 4 + sol[1] * sol[1] / 4 - sol[2];
  if (!(r2 > 0)) return false;
  radius = std::sqrt(r2);
  return true;
}

std::string plain_text(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '\\' && i + 1 < in.size()) {
      const char k = in[i + 1];
      if ((k == 'U' || k == 'u') && i + 6 < in.size() + 0 && in[i + 2] == '+') {
        unsigned cp = 0;
        std::size_t j = i + 3, n = 0;
        while (n < 4 && j < in.size() && std::isxdigit(static_cast<unsigned char>(in[j]))) {
          cp = cp * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(in[j])) ? in[j] - '0' : (std::tolower(in[j]) - 'a' + 10));
          ++j, ++n;
        }
        if (n == 4) {
          append_utf8(out, cp);
          i = j - 1;
          continue;
        }
      }
      if (k == 'P' || k == 'X' || k == 'N') {  // new paragraph, column
        out += ' ';
        ++i;
        continue;
      }
      if (k == '\\' || k == '{' || k == '}') {
        out += k;
        ++i;
        continue;
      }
      if (k == '~') {
        out += ' ';
        ++i;
        continue;
      }
      if (k == 'L' || k == 'l' || k == 'O' || k == 'o' || k == 'K' || k == 'k') {  // under/overline
        ++i;
        continue;
      }
      if (std::strchr("ACcFfHQTWpS", k)) {  // formatting with an argument up to ';'
        const std::size_t semi = in.find(';', i + 2);
        if (semi != std::string::npos) {
          if (k == 'S') out += in.substr(i + 2, semi - i - 2);  // stacked text: keep its characters
          i = semi;
          continue;
        }
      }
      out += c;
      continue;
    }
    if (c == '{' || c == '}') continue;
    if (c == '%' && i + 2 < in.size() && in[i + 1] == '%') {
      const char k = static_cast<char>(std::tolower(in[i + 2]));
      if (k == 'c') append_utf8(out, 0x2300), i += 2;       // diameter
      else if (k == 'd') append_utf8(out, 0x00b0), i += 2;  // degree
      else if (k == 'p') append_utf8(out, 0x00b1), i += 2;  // plus-minus
      else if (k == '%') out += '%', i += 2;
      else if (k == 'u' || k == 'o') i += 2;
      else out += c;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
      continue;
    }
    out += c;
  }
  // collapse runs of spaces
  std::string collapsed;
  for (char c : trim(out))
    if (!(c == ' ' && !collapsed.empty() && collapsed.back() == ' ')) collapsed += c;
  return collapsed;
}

bool read_drawing(const std::string& path, const ReadOptions& options, Drawing& out, std::string& error) {
  out = Drawing{};
  out.file = path;
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      error = path + ": cannot open the drawing";
      return false;
    }
  }
  Scan scan = scan_ascii(path);
  out.insunits = scan.insunits;
  out.codepage = scan.codepage;
  if (options.unit_m) {
    out.unit_m = *options.unit_m;
  } else if (auto u = scan.insunits ? insunits_metres(*scan.insunits) : std::nullopt) {
    out.unit_m = *u;
  } else {
    error = path + ": the drawing does not say its units ($INSUNITS " +
            (scan.insunits ? std::to_string(*scan.insunits) + ", not a length unit" : std::string("absent")) +
            "): give `units:` (m, cm, mm, in, ft) in the map";
    return false;
  }

  std::lock_guard<std::mutex> lock(gdal_mutex);
  GDALAllRegister();
  char step[64];
  std::snprintf(step, sizeof step, "%.17g", arc_step_deg(options.arc_tolerance_m));
  CPLSetConfigOption("OGR_ARC_STEPSIZE", step);
  CPLSetConfigOption("DXF_INLINE_BLOCKS", "FALSE");
  CPLSetConfigOption("DXF_MERGE_BLOCK_GEOMETRIES", "FALSE");
  CPLSetConfigOption("DXF_TRANSLATE_ESCAPE_SEQUENCES", "TRUE");
  CPLSetConfigOption("DXF_ENCODING", options.encoding.empty() ? nullptr : options.encoding.c_str());
  CPLPushErrorHandler(CPLQuietErrorHandler);
  const char* drivers[] = {"DXF", nullptr};
  GDALDataset* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, drivers, nullptr, nullptr));
  const std::string gdal_msg = CPLGetLastErrorMsg();
  CPLPopErrorHandler();
  // the settings are read while features are made, so they stay until the dataset is closed
  auto reset = [] {
    for (const char* k : {"OGR_ARC_STEPSIZE", "DXF_INLINE_BLOCKS", "DXF_MERGE_BLOCK_GEOMETRIES", "DXF_TRANSLATE_ESCAPE_SEQUENCES", "DXF_ENCODING"})
      CPLSetConfigOption(k, nullptr);
  };
  if (!ds) {
    reset();
    error = path + ": not a DXF drawing GDAL can read" + (gdal_msg.empty() ? std::string() : " (" + gdal_msg + ")");
    return false;
  }

  if (OGRLayer* blocks = ds->GetLayerByName("blocks")) {
    for (auto& f : *blocks) {
      const std::string inner = field(*f, "BlockName");
      if (!inner.empty())
        out.nested_blocks.push_back({field(*f, "Block"), inner, field(*f, "EntityHandle")});
    }
  }
  OGRLayer* layer = ds->GetLayerByName("entities");
  if (!layer) {
    GDALClose(ds);
    reset();
    error = path + ": GDAL found no entities layer in this drawing";
    return false;
  }
  for (auto& f : *layer) {
    Entity e;
    e.layer = field(*f, "Layer");
    e.handle = field(*f, "EntityHandle");
    if (field(*f, "PaperSpace") == "1") continue;  // paper space: title block, viewports
    auto it = scan.type_by_handle.find(e.handle);
    e.type = it != scan.type_by_handle.end() ? it->second : type_from_subclasses(field(*f, "SubClasses"));
    const OGRGeometry* g = f->GetGeometryRef();
    const OGRwkbGeometryType gt = g ? wkbFlatten(g->getGeometryType()) : wkbUnknown;
    const std::string block = field(*f, "BlockName");
    const std::string text = field(*f, "Text");
    if (gt == wkbPoint) {
      const auto* p = g->toPoint();
      e.at = {p->getX(), p->getY()};
      e.z = p->Is3D() ? p->getZ() : 0;
      if (!block.empty() || e.type == "INSERT") {
        e.kind = EntityKind::insert;
        if (e.type.empty()) e.type = "INSERT";
        e.block = block;
        e.rotation_deg = f->GetFieldAsDouble("BlockAngle");
        const int ai = f->GetFieldIndex("BlockAttributes");
        if (ai >= 0 && f->IsFieldSetAndNotNull(ai)) {
          // "TAG value" strings
          char** list = f->GetFieldAsStringList(ai);
          for (char** s = list; s && *s; ++s) {
            const std::string kv = *s;
            const std::size_t sp = kv.find(' ');
            if (sp != std::string::npos) e.attributes.emplace_back(kv.substr(0, sp), plain_text(kv.substr(sp + 1)));
          }
        }
      } else if (!text.empty() || e.type == "TEXT" || e.type == "MTEXT" || e.type == "ATTRIB") {
        e.kind = EntityKind::text;
        if (e.type.empty()) e.type = "TEXT";
        e.text = plain_text(text);
      } else {
        e.kind = EntityKind::point;
        if (e.type.empty()) e.type = "POINT";
      }
    } else if (gt == wkbLineString && e.type != "HATCH" && e.type != "DIMENSION") {
      add_ring(*g->toLineString(), e);
      if (e.type.empty()) e.type = "POLYLINE";
      e.kind = EntityKind::polyline;
      if (e.type == "CIRCLE" && e.closed && fit_circle(e.points, e.center, e.radius)) {
        e.kind = EntityKind::circle;
        e.points.clear();
      }
    } else if (gt == wkbPolygon && (e.type == "LWPOLYLINE" || e.type == "POLYLINE" || e.type == "SOLID")) {
      add_ring(*g->toPolygon()->getExteriorRing(), e);
      e.closed = true;
      e.kind = EntityKind::polyline;
    } else {
      e.kind = EntityKind::other;
      if (e.type.empty()) e.type = g ? OGRGeometryTypeToName(g->getGeometryType()) : "entity without geometry";
    }
    out.entities.push_back(std::move(e));
  }
  GDALClose(ds);
  reset();
  return true;
}

bool read_drawing_within(const std::string& path, const ReadOptions& options, double timeout_s, Drawing& out, std::string& error) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return read_drawing(path, options, out, error);  // no process to spare: read it here
  if (child == 0) {
    Drawing d;
    std::string e;
    ::_exit(read_drawing(path, options, d, e) ? 0 : 1);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0) return read_drawing(path, options, out, error);
    if (std::chrono::steady_clock::now() >= until) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      char b[64];
      std::snprintf(b, sizeof b, "%g", timeout_s);
      error = path + ": reading it did not finish within " + b +
              " s (a damaged drawing: GDAL's DXF reader loops on some); nothing imported. 读取图纸超时（图纸可能已损坏）";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFSIGNALED(status)) {
    error = path + ": reading it crashed the reader (signal " + std::to_string(WTERMSIG(status)) + "): a damaged drawing; nothing imported";
    return false;
  }
  return read_drawing(path, options, out, error);
}

}  // namespace planttwin::dxf

// omlox Location -> live-v1 fix; EPSG positions through PROJ; derived UUIDs.
#include <proj.h>
#include <proj_experimental.h>

#include <cmath>
#include <map>

#include "hardware-in-loop/omlox/omlox_channel.h"
#include "hardware-in-loop/vendor_time.h"
#include "scenarios/loader.h"

namespace planttwin::hil::omlox {

using json = nlohmann::json;

struct GeoToSite::Impl {
  PJ_CONTEXT* ctx = nullptr;
  std::map<int, PJ*> ops;  // EPSG -> (lon, lat) to site
  std::optional<std::array<double, 3>> origin;
  ~Impl() {
    for (auto& [k, op] : ops)
      if (op) proj_destroy(op);
    if (ctx) proj_context_destroy(ctx);
  }
};

GeoToSite::GeoToSite(const Site& site) : impl_(std::make_unique<Impl>()) { impl_->origin = site.origin; }
GeoToSite::~GeoToSite() = default;

bool GeoToSite::to_site(int epsg, double lon, double lat, double& x, double& y, std::string& error) {
  if (!impl_->origin) {
    error = "crs EPSG:" + std::to_string(epsg) + " needs the site's origin (site-v1 `origin`); send crs local";
    return false;
  }
  if (epsg != 4326 && epsg != 4490) {
    error = "crs EPSG:" + std::to_string(epsg) + " is not supported (local, EPSG:4326, EPSG:4490)";
    return false;
  }
  if (!(std::isfinite(lon) && std::isfinite(lat) && std::fabs(lat) <= 90 && std::fabs(lon) <= 180)) {
    error = "longitude / latitude out of range";
    return false;
  }
  PJ*& op = impl_->ops[epsg];
  if (!op) {
    if (!impl_->ctx) {
      impl_->ctx = proj_context_create();
      proj_log_level(impl_->ctx, PJ_LOG_NONE);
    }
    PJ_CONTEXT* ctx = impl_->ctx;
    // the site frame: transverse Mercator on CGCS2000 centred at the origin (as the uplink's
    // site -> CGCS2000 conversion, docs/uplink.md), from the Location's geographic CRS
    const double lat0 = (*impl_->origin)[0], lon0 = (*impl_->origin)[1];
    PJ* base = proj_create_from_database(ctx, "EPSG", "4490", PJ_CATEGORY_CRS, false, nullptr);
    PJ* src = proj_create_from_database(ctx, "EPSG", std::to_string(epsg).c_str(), PJ_CATEGORY_CRS, false, nullptr);
    PJ* conv = proj_create_conversion_transverse_mercator(ctx, lat0, lon0, 1.0, 0.0, 0.0, "degree", 0.0174532925199433, "metre", 1.0);
    PJ* cs = proj_create_cartesian_2D_cs(ctx, PJ_CART2D_EASTING_NORTHING, "metre", 1.0);
    PJ* local = base && conv && cs ? proj_create_projected_crs(ctx, "planttwin site frame", base, conv, cs) : nullptr;
    PJ* raw = local && src ? proj_create_crs_to_crs_from_pj(ctx, src, local, nullptr, nullptr) : nullptr;
    op = raw ? proj_normalize_for_visualization(ctx, raw) : nullptr;  // lon, lat in; x, y out
    for (PJ* p : {base, src, conv, cs, local, raw})
      if (p) proj_destroy(p);
    if (!op) {
      impl_->ops.erase(epsg);
      error = "PROJ cannot convert EPSG:" + std::to_string(epsg) + " to the site frame (is proj-data installed?)";
      return false;
    }
  }
  PJ_COORD c = proj_trans(op, PJ_FWD, proj_coord(lon, lat, 0, 0));
  x = c.xy.x;
  y = c.xy.y;
  if (!std::isfinite(x) || !std::isfinite(y)) {
    error = "PROJ gave no position for this longitude / latitude";
    return false;
  }
  return true;
}

bool location_to_fix(const json& loc, const std::string& path_provider, std::int64_t now_ms, GeoToSite& geo, std::string& body,
                     std::string& reason, std::string& detail) {
  auto fail = [&](const char* r, std::string d) {
    reason = r;
    detail = std::move(d);
    return false;
  };
  if (!loc.is_object()) return fail("bad_field", "a Location is a JSON object");
  std::string provider = path_provider;
  if (auto it = loc.find("provider_id"); it != loc.end()) {
    if (!it->is_string()) return fail("bad_field", "provider_id is not a string");
    if (!provider.empty() && it->get<std::string>() != provider)
      return fail("bad_field", "provider_id '" + it->get<std::string>() + "' differs from the path's '" + provider + "'");
    provider = it->get<std::string>();
  }
  if (provider.empty()) return fail("missing_field", "a Location needs provider_id (the tag id)");
  auto pos = loc.find("position");
  if (pos == loc.end() || !pos->is_object()) return fail("missing_field", "a Location needs position (a GeoJSON Point)");
  // checked before reading: json::value() throws when the key holds another type (fuzz_omlox)
  if (auto t = pos->find("type"); t == pos->end() || !t->is_string() || t->get<std::string>() != "Point")
    return fail("bad_field", "position.type is not \"Point\"");
  auto coords = pos->find("coordinates");
  if (coords == pos->end() || !coords->is_array() || coords->size() < 2 || coords->size() > 3)
    return fail("bad_field", "position.coordinates is not [x, y] or [x, y, z]");
  for (const json& c : *coords)
    if (!c.is_number()) return fail("bad_field", "position.coordinates holds a value that is not a number");
  double x = (*coords)[0].get<double>(), y = (*coords)[1].get<double>();
  const bool has_z = coords->size() == 3;
  const double z = has_z ? (*coords)[2].get<double>() : 0.0;
  if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(z)) return fail("not_finite", "a coordinate is not finite");
  std::string crs = "local";
  if (auto it = loc.find("crs"); it != loc.end() && !it->is_null()) {
    if (!it->is_string()) return fail("bad_field", "crs is not a string");
    crs = it->get<std::string>();
  }
  if (crs != "local") {
    std::string code = crs;
    if (code.rfind("EPSG:", 0) == 0) code = code.substr(5);
    int epsg = 0;
    try {
      std::size_t n = 0;
      epsg = std::stoi(code, &n);
      if (n != code.size()) throw std::invalid_argument("crs");
    } catch (...) {
      return fail("bad_field", "crs '" + crs + "' is neither local nor an EPSG code");
    }
    std::string err;
    if (!geo.to_site(epsg, x, y, x, y, err)) return fail("bad_field", err);
  }
  std::int64_t ts = now_ms;
  if (auto it = loc.find("timestamp_generated"); it != loc.end() && !it->is_null()) {
    if (!it->is_string() || !parse_iso8601_ms(it->get<std::string>(), ts))
      return fail("bad_field", "timestamp_generated is not an ISO 8601 date-time");
  }
  json f = {{"v", 1}, {"tag", provider}, {"ts", ts}, {"x", x}, {"y", y}};
  if (has_z) f["z"] = z;
  if (auto it = loc.find("floor"); it != loc.end() && !it->is_null()) {
    if (!it->is_number()) return fail("bad_field", "floor is not a number");
    const double fl = it->get<double>();
    if (fl == std::floor(fl) && std::fabs(fl) < 1e6) f["floor"] = static_cast<std::int64_t>(fl);
    else f["floor"] = it->dump();
  }
  body = f.dump();
  return true;
}

std::string uuid_for(const std::string& name) {
  std::string h = sha256_hex("planttwin-omlox:" + name).substr(0, 32);
  h[12] = '5';                                                      // name-based
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];      // RFC 4122 variant
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

}  // namespace planttwin::hil::omlox

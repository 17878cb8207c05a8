// Site-local metres -> CGCS2000 (EPSG:4490) through PROJ.
//
// The site frame is a plane: x east, y north (true north), metres, origin at site.origin. We model
// it as a transverse Mercator projection on the CGCS2000 ellipsoid, centred at the origin
// (lat_0, lon_0 = the origin, scale 1, no false easting or northing), whose base CRS is EPSG:4490,
// and let PROJ invert it. Within a plant (a few km) the scale error of such a projection is
// d^2 / (2 R^2): 1.2e-8 at 1 km (12 um), 3e-7 at 5 km (0.3 mm at that distance), far below the
// positioning accuracy (metres). The origin's height is not used: lon and lat do not depend on it
// to that accuracy.
#include <proj.h>
#include <proj_experimental.h>  // the CRS construction functions

#include <stdexcept>
#include <string>

#include "hardware-in-loop/uplink/uplink.h"

namespace planttwin {

struct LocalToCgcs2000::Impl {
  PJ_CONTEXT* ctx = nullptr;
  PJ* op = nullptr;
  ~Impl() {
    if (op) proj_destroy(op);
    if (ctx) proj_context_destroy(ctx);
  }
};

namespace {
std::string proj_error(PJ_CONTEXT* ctx) {
  int e = proj_context_errno(ctx);
  const char* s = proj_context_errno_string(ctx, e);
  return s ? s : "unknown PROJ error";
}
}  // namespace

LocalToCgcs2000::LocalToCgcs2000(const Site& site) : impl_(std::make_unique<Impl>()) {
  if (!site.origin) return;
  const double lat0 = (*site.origin)[0], lon0 = (*site.origin)[1];
  if (!(lat0 >= -90 && lat0 <= 90 && lon0 >= -180 && lon0 <= 180))
    throw std::runtime_error("uplink: site origin lat " + std::to_string(lat0) + ", lon " + std::to_string(lon0) +
                             " is out of range");
  PJ_CONTEXT* ctx = proj_context_create();
  impl_->ctx = ctx;
  proj_log_level(ctx, PJ_LOG_NONE);
  PJ* geog = proj_create_from_database(ctx, "EPSG", "4490", PJ_CATEGORY_CRS, false, nullptr);
  if (!geog)
    throw std::runtime_error("uplink: PROJ does not know EPSG:4490 (CGCS2000): " + proj_error(ctx) +
                             " (is proj.db installed? package libproj25 / proj-data)");
  PJ* conv = proj_create_conversion_transverse_mercator(ctx, lat0, lon0, 1.0, 0.0, 0.0, "degree",
                                                        0.0174532925199433, "metre", 1.0);
  PJ* cs = proj_create_cartesian_2D_cs(ctx, PJ_CART2D_EASTING_NORTHING, "metre", 1.0);
  PJ* local = conv && cs ? proj_create_projected_crs(ctx, "planttwin site frame", geog, conv, cs) : nullptr;
  PJ* op = local ? proj_create_crs_to_crs_from_pj(ctx, local, geog, nullptr, nullptr) : nullptr;
  PJ* norm = op ? proj_normalize_for_visualization(ctx, op) : nullptr;  // lon, lat order
  for (PJ* p : {geog, conv, cs, local, op})
    if (p) proj_destroy(p);
  if (!norm) throw std::runtime_error("uplink: PROJ could not build the site -> CGCS2000 conversion: " + proj_error(ctx));
  impl_->op = norm;
}

LocalToCgcs2000::~LocalToCgcs2000() = default;

bool LocalToCgcs2000::valid() const { return impl_->op != nullptr; }

void LocalToCgcs2000::convert(double x_m, double y_m, double& lon_deg, double& lat_deg) const {
  PJ_COORD c = proj_trans(impl_->op, PJ_FWD, proj_coord(x_m, y_m, 0, 0));
  lon_deg = c.xy.x;
  lat_deg = c.xy.y;
}

}  // namespace planttwin

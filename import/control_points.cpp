// Control points -> rotation and geodetic origin. The fit is done in the transverse Mercator plane
// the uplink uses (centred at the site's origin, scale 1, CGCS2000 = GRS80 ellipsoid); the centre is
// not known before the fit, so it starts at the points' mean and is moved to the fitted origin
// three times (the change after the first is below a micrometre within a plant).
#include "import/control_points.h"

#include <proj.h>

#include <cmath>
#include <cstdio>
#include <memory>

namespace planttwin {

namespace {

struct Proj {
  PJ_CONTEXT* ctx = proj_context_create();
  PJ* p = nullptr;
  ~Proj() {
    if (p) proj_destroy(p);
    proj_context_destroy(ctx);
  }
  bool open(const std::string& def, std::string& error) {
    p = proj_create(ctx, def.c_str());
    if (!p) error = "PROJ cannot make '" + def + "'";
    return p != nullptr;
  }
  // degrees -> metres (fwd) or metres -> degrees (inv)
  bool fwd(double lon, double lat, double& x, double& y) const {
    PJ_COORD c = proj_trans(p, PJ_FWD, proj_coord(proj_torad(lon), proj_torad(lat), 0, 0));
    x = c.xy.x, y = c.xy.y;
    return std::isfinite(x) && std::isfinite(y);
  }
  bool inv(double x, double y, double& lon, double& lat) const {
    PJ_COORD c = proj_trans(p, PJ_INV, proj_coord(x, y, 0, 0));
    lon = proj_todeg(c.lp.lam), lat = proj_todeg(c.lp.phi);
    return std::isfinite(lon) && std::isfinite(lat);
  }
};

std::string tmerc(double lat0, double lon0, double x0) {
  char b[200];
  std::snprintf(b, sizeof b, "+proj=tmerc +lat_0=%.12f +lon_0=%.12f +k=1 +x_0=%.3f +y_0=0 +ellps=GRS80 +units=m", lat0, lon0, x0);
  return b;
}

}  // namespace

bool gauss_kruger_to_lonlat(double x_north, double y_east, double cm_deg, double& lon, double& lat, std::string& error) {
  if (y_east >= 1e6) y_east = std::fmod(y_east, 1e6);  // "40585366" -> zone 40, 585366
  Proj pj;
  if (!pj.open(tmerc(0, cm_deg, 500000), error)) return false;
  if (!pj.inv(y_east, x_north, lon, lat)) {
    error = "Gauss–Krüger point outside the projection";
    return false;
  }
  return true;
}

bool fit_control_points(const std::vector<GeoControlPoint>& pts, double unit_m, double ox, double oy, GeoFit& out, std::string& error) {
  out = GeoFit{};
  const std::size_t n = pts.size();
  if (n < 2) {
    error = "at least 2 control points are needed for the rotation (" + std::to_string(n) + " given)";
    return false;
  }
  double lat0 = 0, lon0 = 0;
  for (const auto& p : pts) lat0 += p.lat / static_cast<double>(n), lon0 += p.lon / static_cast<double>(n);
  std::vector<double> ax(n), ay(n), bx(n), by(n);
  for (std::size_t i = 0; i < n; ++i) ax[i] = (pts[i].x - ox) * unit_m, ay[i] = (pts[i].y - oy) * unit_m;
  double spread = 0;
  for (std::size_t i = 1; i < n; ++i) spread = std::max(spread, std::hypot(ax[i] - ax[0], ay[i] - ay[0]));
  if (!(spread > 0.01)) {
    error = "the control points lie at one drawing spot: they give no rotation";
    return false;
  }
  double theta = 0, tx = 0, ty = 0;
  for (int round = 0; round < 3; ++round) {
    Proj pj;
    if (!pj.open(tmerc(lat0, lon0, 0), error)) return false;
    for (std::size_t i = 0; i < n; ++i)
      if (!pj.fwd(pts[i].lon, pts[i].lat, bx[i], by[i])) {
        error = "control point " + std::to_string(i + 1) + ": PROJ cannot project it";
        return false;
      }
    double max = 0, may = 0, mbx = 0, mby = 0;
    for (std::size_t i = 0; i < n; ++i) max += ax[i], may += ay[i], mbx += bx[i], mby += by[i];
    max /= static_cast<double>(n), may /= static_cast<double>(n), mbx /= static_cast<double>(n), mby /= static_cast<double>(n);
    double sc = 0, ss = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double px = ax[i] - max, py = ay[i] - may, qx = bx[i] - mbx, qy = by[i] - mby;
      sc += px * qx + py * qy;
      ss += px * qy - py * qx;
    }
    theta = std::atan2(ss, sc);
    tx = mbx - (std::cos(theta) * max - std::sin(theta) * may);
    ty = mby - (std::sin(theta) * max + std::cos(theta) * may);
    // the site origin (a = 0) lies at (tx, ty) of this plane: centre the next round there
    if (!pj.inv(tx, ty, lon0, lat0)) {
      error = "PROJ cannot place the fitted origin";
      return false;
    }
  }
  out.rotation_deg = theta * 180 / M_PI;
  out.lat = lat0, out.lon = lon0;
  // residuals in the plane centred at the origin (tx, ty ~ 0 now)
  Proj pj;
  if (!pj.open(tmerc(lat0, lon0, 0), error)) return false;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double x, y;
    pj.fwd(pts[i].lon, pts[i].lat, x, y);
    const double fx = std::cos(theta) * ax[i] - std::sin(theta) * ay[i], fy = std::sin(theta) * ax[i] + std::cos(theta) * ay[i];
    const double r = std::hypot(fx - x, fy - y);
    out.residual_m.push_back(r);
    sum += r * r;
    if (r > out.max_m) out.max_m = r, out.worst = static_cast<int>(i);
  }
  out.rms_m = std::sqrt(sum / static_cast<double>(n));
  return true;
}

}  // namespace planttwin

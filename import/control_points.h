// Tying the drawing to the ground (docs/import.md "Control points"): drawing points whose CGCS2000
// longitude/latitude (or Gauss–Krüger coordinates) are known give the rotation from the drawing's
// axes to east/north and the geodetic position of the site's origin, for the uplink's coordinates
// (hardware-in-loop/uplink: a transverse Mercator plane on the CGCS2000 ellipsoid centred at the
// site's origin). PROJ does the projections.
#pragma once
#include <string>
#include <vector>

namespace planttwin {

struct GeoControlPoint {
  double x = 0, y = 0;      // drawing units
  double lon = 0, lat = 0;  // CGCS2000 degrees
  int line = 0;             // line in the map, for messages
};

struct GeoFit {
  double rotation_deg = 0;         // drawing x axis -> east, counter-clockwise
  double lat = 0, lon = 0;         // the site origin (the map's `origin` drawing point), degrees
  std::vector<double> residual_m;  // per control point: distance between its fitted and surveyed place
  double rms_m = 0, max_m = 0;
  int worst = -1;                  // index of the largest residual
};

// Rigid fit (rotation + translation; the drawing's scale is its units) in the plane of the site's
// origin, by least squares. At least 2 points, not all at one drawing spot. false and `error` else.
bool fit_control_points(const std::vector<GeoControlPoint>& pts, double unit_m, double origin_x, double origin_y, GeoFit& out,
                        std::string& error);

// Gauss–Krüger (CGCS2000, x north, y east with 500 km false easting; a zone number in front of y is
// removed) to longitude/latitude, for the zone of central meridian `cm_deg`.
bool gauss_kruger_to_lonlat(double x_north, double y_east, double cm_deg, double& lon, double& lat, std::string& error);

}  // namespace planttwin

// Which cameras see which spot (PL-13 camera_call, SO-08), from the 3D plant model.
//
// A camera sees a spot when all of these hold (edges count as inside):
//  - range: the straight distance camera -> spot is at most the camera's `range`;
//  - horizontal field of view: the spot's bearing from the camera (0 = east, counter-clockwise,
//    degrees) is within yaw_deg +- hfov_deg / 2 (hfov_deg >= 360: every bearing; a spot straight
//    below or above the camera passes);
//  - vertical field of view: the spot's elevation angle from the camera is within
//    pitch_deg +- vfov_deg / 2 (pitch negative looks down);
//  - line of sight: the segment camera -> spot crosses no face of an opaque solid. Glass is
//    transparent (CameraGridOptions::transparent); every other material is opaque.
// The field of view is a pan/tilt angular window, not a pinhole frustum: it needs no image model
// and handles panoramic cameras (hfov up to 360); near the image corners of a steeply pitched
// camera it is slightly narrower than the real frustum.
#pragma once
#include <string>
#include <vector>

#include "engine/camera_map.h"
#include "engine/site.h"
#include "sim/plant/plant_model.h"

namespace planttwin {

struct CameraGridOptions {
  double cell_m = 1;             // grid cell side. Default: 1 m
  double margin_m = 5;           // grid margin around the site's extent. Default: 5 m
  double spot_height_m = 1.0;    // spot above the floor surface (a person's chest). Default: 1.0 m
  std::vector<std::string> transparent = {"glass"};  // materials cameras see through. Default: glass
};

// Range and field of view only (no line of sight).
bool camera_in_view(const Camera& cam, const Vec3& spot);
// Per material of `model`: 1 when it blocks a camera's view.
std::vector<char> camera_blocking_materials(const PlantModel& model, const CameraGridOptions& opt);
// Range, field of view and line of sight. `blocks` from camera_blocking_materials().
bool camera_sees(const Camera& cam, const Vec3& spot, const PlantModel& model, const std::vector<char>& blocks);

// The plan extent of the site: zones, buildings, obstacles, anchors, cameras and bounds.
Box2 site_extent(const Site& site);

// One grid per floor of the site (Site::floor_ids order) over the site's extent plus the margin
// (a storey that only buildings have: over those buildings' footprints plus the margin);
// each cell holds the set of cameras (site order) that see its centre at the floor's surface +
// spot height. Only cells within a camera's range are tested. Deterministic: the same sets and
// set numbers for any `threads`.
CameraVisibility build_camera_visibility(const Site& site, const PlantModel& model, CameraGridOptions opt = {},
                                         int threads = 1);

}  // namespace planttwin

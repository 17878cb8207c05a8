// Camera visibility for a site (PL-13): built once from the plant's 3D model (sim/plant) and
// shared by every engine that runs on the same site file, so a suite of scenarios on the demo plant
// pays for it once per process.
#pragma once
#include <memory>
#include <string>

#include "engine/camera_map.h"
#include "engine/site.h"

namespace planttwin {

// Null when the site has no cameras or its 3D model cannot be built (`error` says why). Cached by
// `site_sha256` (the site file's hash; "" for an inline site: not cached).
std::shared_ptr<const CameraVisibility> camera_visibility_for(const Site& site, const std::string& site_sha256,
                                                              std::string* error = nullptr);

}  // namespace planttwin

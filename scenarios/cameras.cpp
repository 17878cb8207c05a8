#include "scenarios/cameras.h"

#include <map>
#include <mutex>

#include "sim/plant/camera_visibility.h"
#include "sim/radio/plant_los.h"

namespace planttwin {

namespace {

std::shared_ptr<const CameraVisibility> build(const Site& site, std::string* error) {
  std::string message;
  std::unique_ptr<LineOfSight> los = make_plant_los(site, message);
  const auto* plant = dynamic_cast<const PlantModel*>(los.get());
  if (!plant) {
    if (error) *error = message.empty() ? "the plant's 3D model could not be built" : message;
    return nullptr;
  }
  return std::make_shared<const CameraVisibility>(build_camera_visibility(site, *plant));
}

}  // namespace

std::shared_ptr<const CameraVisibility> camera_visibility_for(const Site& site, const std::string& site_sha256,
                                                              std::string* error) {
  if (site.cameras.empty()) return nullptr;
  if (site_sha256.empty()) return build(site, error);
  // one build per site file; concurrent runs on the same site wait for the first
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const CameraVisibility>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(site_sha256);
  if (it != cache.end()) return it->second;
  auto v = build(site, error);
  if (v) cache.emplace(site_sha256, v);
  return v;
}

}  // namespace planttwin

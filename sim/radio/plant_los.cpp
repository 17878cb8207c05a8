#include "sim/radio/plant_los.h"

#include "sim/plant/plant_model.h"

namespace planttwin {

std::unique_ptr<LineOfSight> make_plant_los(const Site& site, std::string& error) {
  // the plant model knows the five site-v1 materials plus the site's `materials` keys
  Site s = site;
  auto add = [&](const std::string& name) {
    if (name == "concrete" || name == "steel" || name == "brick" || name == "glass" || name == "wood") return;
    s.materials.try_emplace(name, Material{});
  };
  for (const Building& b : s.buildings) add(b.wall_material);
  for (const Obstacle& o : s.obstacles) add(o.material);
  return PlantModel::build(s, error);
}

}  // namespace planttwin

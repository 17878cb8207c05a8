// Small hand-made sites for the plant tests.
#pragma once
#include <string>

#include "engine/site.h"
#include "scenarios/loader.h"

namespace planttwin::test {

inline Polygon rect(double x0, double y0, double x1, double y1) {
  Polygon p;
  p.pts = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
  p.finalize();
  return p;
}

inline Site empty_site() {
  Site s;
  s.name = "test";
  s.floors = {Floor{"1", -1, 4}};
  return s;
}

inline Obstacle box(const std::string& id, double x0, double y0, double z0, double x1, double y1, double z1,
                    const std::string& material) {
  Obstacle o;
  o.id = id;
  o.shape = Obstacle::Shape::box;
  o.min[0] = x0, o.min[1] = y0, o.min[2] = z0;
  o.max[0] = x1, o.max[1] = y1, o.max[2] = z1;
  o.material = material;
  return o;
}

inline Obstacle cylinder(const std::string& id, double cx, double cy, double r, double z0, double z1,
                         const std::string& material = "steel") {
  Obstacle o;
  o.id = id;
  o.shape = Obstacle::Shape::cylinder;
  o.center = {cx, cy};
  o.radius = r;
  o.z0 = z0;
  o.z1 = z1;
  o.material = material;
  return o;
}

// A building 10 m x 10 m at the origin with storeys of 4 m.
inline Building building(int storeys, double thickness = 0.24, const std::string& material = "concrete") {
  Building b;
  b.id = "B";
  b.footprint = rect(0, 0, 10, 10);
  for (int i = 0; i < storeys; ++i) b.floors.push_back(Floor{std::to_string(i + 1), 4.0 * i, 4.0 * (i + 1)});
  b.wall_material = material;
  b.wall_thickness = thickness;
  return b;
}

inline Site demo_plant() {
  Site s;
  const auto err = load_site_file(std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/sites/demo-plant.yaml", s);
  if (err) throw std::runtime_error(err->to_string());
  return s;
}

}  // namespace planttwin::test

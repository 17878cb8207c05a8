// Plane geometry for zones and fences. Points are metres in the site's local frame (x east, y north).
//
// Thread-safety: plain values and pure functions.
#pragma once
#include <vector>

namespace planttwin {

struct Vec2 {
  double x = 0, y = 0;
  bool operator==(const Vec2&) const = default;  // exact: states compare bit for bit
};
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
inline double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
inline double dist2(Vec2 a, Vec2 b) { return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y); }
double dist(Vec2 a, Vec2 b);

struct Box2 {
  Vec2 min{1e300, 1e300}, max{-1e300, -1e300};
  void add(Vec2 p);
  bool contains(Vec2 p, double margin = 0) const {
    return p.x >= min.x - margin && p.x <= max.x + margin && p.y >= min.y - margin && p.y <= max.y + margin;
  }
  bool operator==(const Box2&) const = default;
};

// A simple polygon (not necessarily convex). Points on the edge count as inside.
struct Polygon {
  std::vector<Vec2> pts;
  Box2 box;  // filled by finalize()
  void finalize();
  bool contains(Vec2 p) const;             // inside or on the edge
  double distance_to_edge(Vec2 p) const;   // shortest distance to the outline
  double area() const;                     // absolute area, m^2
  Vec2 centroid() const;
  bool operator==(const Polygon&) const = default;
};

}  // namespace planttwin

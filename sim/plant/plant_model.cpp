#include "sim/plant/plant_model.h"

#include "engine/plan_hull.h"

#include <btBulletCollisionCommon.h>
#include <BulletCollision/NarrowPhaseCollision/btRaycastCallback.h>

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstdint>
#include <atomic>
#include <cmath>
#include <future>
#include <limits>
#include <map>
#include <thread>

namespace planttwin {

namespace {

constexpr double kPi = 3.14159265358979323846;
// Hits on one solid closer than this along the path are one hit (a ray through the edge two
// triangles of a face share is reported by both).
constexpr double kSameHit_m = 1e-7;
// From this many triangles PlantModel::build derives planes and prisms on a second thread while
// Bullet's tree is built or read (a 100,000-triangle model: several milliseconds each).
constexpr std::size_t kParallelBuildTriangles = 20'000;

const std::vector<std::string> kStandardMaterials = {"concrete", "steel", "brick", "glass", "wood"};

using P2 = std::array<double, 2>;

double cross2(P2 o, P2 a, P2 b) { return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]); }

double signed_area(const std::vector<P2>& p) {
  double s = 0;
  for (std::size_t i = 0, n = p.size(); i < n; ++i) {
    const P2& a = p[i];
    const P2& b = p[(i + 1) % n];
    s += a[0] * b[1] - b[0] * a[1];
  }
  return s / 2;
}

bool in_triangle(P2 p, P2 a, P2 b, P2 c) {
  return cross2(a, b, p) >= 0 && cross2(b, c, p) >= 0 && cross2(c, a, p) >= 0;
}

// Ear clipping of a simple counter-clockwise polygon; triangles counter-clockwise.
std::vector<std::array<int, 3>> triangulate(const std::vector<P2>& p) {
  std::vector<std::array<int, 3>> tris;
  std::vector<int> idx(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) idx[i] = static_cast<int>(i);
  std::size_t guard = 0;
  while (idx.size() > 3 && guard++ < 10 * p.size() * p.size()) {
    const std::size_t n = idx.size();
    bool clipped = false;
    for (std::size_t i = 0; i < n; ++i) {
      const int ia = idx[(i + n - 1) % n], ib = idx[i], ic = idx[(i + 1) % n];
      const P2 a = p[static_cast<std::size_t>(ia)], b = p[static_cast<std::size_t>(ib)], c = p[static_cast<std::size_t>(ic)];
      if (cross2(a, b, c) <= 1e-12) continue;  // reflex or flat corner: not an ear
      bool empty = true;
      for (int j : idx) {
        if (j == ia || j == ib || j == ic) continue;
        if (in_triangle(p[static_cast<std::size_t>(j)], a, b, c)) {
          empty = false;
          break;
        }
      }
      if (!empty) continue;
      tris.push_back({ia, ib, ic});
      idx.erase(idx.begin() + static_cast<std::ptrdiff_t>(i));
      clipped = true;
      break;
    }
    if (!clipped) break;  // not simple: drop what is left rather than loop
  }
  if (idx.size() == 3) tris.push_back({idx[0], idx[1], idx[2]});
  return tris;
}

// Appends a closed prism (a counter-clockwise outline between two heights) as one solid.
void add_prism(PlantMesh& m, const std::vector<P2>& outline, double z0, double z1, int solid) {
  const int n = static_cast<int>(outline.size());
  if (n < 3 || z1 - z0 <= 1e-9) return;
  const int base = static_cast<int>(m.vertices.size());
  for (const P2& q : outline) m.vertices.push_back({q[0], q[1], z0});
  for (const P2& q : outline) m.vertices.push_back({q[0], q[1], z1});
  auto tri = [&](int a, int b, int c) {
    m.triangles.push_back({base + a, base + b, base + c});
    m.triangle_solid.push_back(solid);
  };
  for (const auto& t : triangulate(outline)) {
    tri(n + t[0], n + t[1], n + t[2]);  // top, facing up
    tri(t[0], t[2], t[1]);              // bottom, facing down
  }
  for (int j = 0; j < n; ++j) {
    const int k = (j + 1) % n;
    tri(j, k, n + k);
    tri(j, n + k, n + j);
  }
  // convex (every corner turning left, or straight) and counter-clockwise: the solid is the prism
  // over its outline's hull (SolidShape::exact)
  bool convex = true;
  double area2 = 0;
  for (int j = 0; j < n; ++j) {
    const P2 &o = outline[static_cast<std::size_t>(j)], &a = outline[static_cast<std::size_t>((j + 1) % n)],
             &b = outline[static_cast<std::size_t>((j + 2) % n)];
    convex = convex && (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]) >= 0;
    area2 += o[0] * a[1] - a[0] * o[1];
  }
  m.solids[static_cast<std::size_t>(solid)].prism = convex && area2 > 0;
}

std::vector<P2> ccw(const Polygon& poly) {
  std::vector<P2> p;
  for (const Vec2& v : poly.pts) p.push_back({v.x, v.y});
  // drop a closing point equal to the first
  if (p.size() > 1 && p.front() == p.back()) p.pop_back();
  if (signed_area(p) < 0) std::reverse(p.begin(), p.end());
  return p;
}

// The outline offset by `h` (outwards when h > 0), mitred; a straight or reversed corner keeps
// the edge's own normal.
std::vector<P2> offset(const std::vector<P2>& p, double h) {
  const std::size_t n = p.size();
  std::vector<P2> out(n);
  auto normal = [&](std::size_t i) {  // outward normal of edge i -> i+1 of a ccw outline
    const P2 a = p[i], b = p[(i + 1) % n];
    const double dx = b[0] - a[0], dy = b[1] - a[1], len = std::hypot(dx, dy);
    return len > 0 ? P2{dy / len, -dx / len} : P2{0, 0};
  };
  for (std::size_t i = 0; i < n; ++i) {
    const P2 n0 = normal((i + n - 1) % n), n1 = normal(i);
    const double c = 1 + n0[0] * n1[0] + n0[1] * n1[1];
    P2 m = n1;
    if (c > 0.1) m = {(n0[0] + n1[0]) / c, (n0[1] + n1[1]) / c};  // miter, at most ~4.5x long
    out[i] = {p[i][0] + h * m[0], p[i][1] + h * m[1]};
  }
  return out;
}

}  // namespace

std::vector<std::string> plant_material_names(const Site& site) {
  std::vector<std::string> names = kStandardMaterials;
  for (const auto& [name, mat] : site.materials)
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return names;
}

double plant_floor_surface(const Site& site, const std::string& floor) {
  const Floor* f = site.find_floor(floor);
  if (!f) return 0;
  if (f->z0 >= 0) return f->z0;
  return f->z1 > 0 ? 0 : f->z0;
}

std::string build_plant_mesh(const Site& site, const PlantOptions& opt, PlantMesh& m) {
  m = PlantMesh{};
  const std::vector<std::string> names = plant_material_names(site);
  auto material = [&](const std::string& what, const std::string& name, int& index) -> std::string {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      std::string known;
      for (const std::string& k : names) known += (known.empty() ? "" : ", ") + k;
      return what + ": unknown material '" + name + "' (known: " + known + ")";
    }
    index = static_cast<int>(it - names.begin());
    return "";
  };
  auto new_solid = [&](std::string name, int mat) {
    m.solids.push_back({std::move(name), mat});
    return static_cast<int>(m.solids.size()) - 1;
  };

  for (const Building& b : site.buildings) {
    int mat = 0;
    if (std::string e = material("building " + b.id + " wall", b.wall_material, mat); !e.empty()) return e;
    const std::vector<P2> outline = ccw(b.footprint);
    if (outline.size() < 3 || b.floors.empty()) continue;
    std::vector<Floor> floors = b.floors;
    std::stable_sort(floors.begin(), floors.end(), [](const Floor& x, const Floor& y) { return x.z0 < y.z0; });
    // walls: one panel per footprint edge over each run of contiguous storeys
    std::vector<std::pair<double, double>> runs;
    for (const Floor& f : floors) {
      if (!runs.empty() && f.z0 <= runs.back().second + 1e-9) runs.back().second = std::max(runs.back().second, f.z1);
      else runs.push_back({f.z0, f.z1});
    }
    const double h = b.wall_thickness / 2;
    const std::vector<P2> outer = offset(outline, h), inner = offset(outline, -h);
    if (h > 0) {
      for (std::size_t i = 0, n = outline.size(); i < n; ++i) {
        const std::size_t k = (i + 1) % n;
        const std::vector<P2> panel = {outer[i], outer[k], inner[k], inner[i]};
        for (const auto& [z0, z1] : runs) {
          const int s = new_solid(b.id + "/wall-" + std::to_string(i), mat);
          add_prism(m, panel, z0, z1, s);
        }
      }
    }
    // slabs: under every storey but the lowest, inside the walls
    for (std::size_t i = 1; i < floors.size(); ++i) {
      const int s = new_solid(b.id + "/slab-" + floors[i].id, mat);
      add_prism(m, inner, floors[i].z0 - opt.slab_thickness_m, floors[i].z0, s);
    }
  }

  const int sides = std::max(3, opt.cylinder_sides);
  // a regular polygon with the circle's area: chords through it are close to the circle's
  const double area_scale = std::sqrt((2 * kPi / sides) / std::sin(2 * kPi / sides));
  for (const Obstacle& o : site.obstacles) {
    int mat = 0;
    if (std::string e = material("obstacle " + o.id, o.material, mat); !e.empty()) return e;
    if (o.shape == Obstacle::Shape::mesh) {
      if (!o.mesh || o.mesh->triangles.empty()) continue;
      const int s = new_solid(o.id, mat);
      m.solids.back().open = !o.mesh->closed;
      const int base = static_cast<int>(m.vertices.size());
      m.vertices.insert(m.vertices.end(), o.mesh->vertices.begin(), o.mesh->vertices.end());
      for (const auto& t : o.mesh->triangles) {
        m.triangles.push_back({base + t[0], base + t[1], base + t[2]});
        m.triangle_solid.push_back(s);
      }
    } else if (o.shape == Obstacle::Shape::box) {
      if (o.max[0] - o.min[0] < 1e-9 || o.max[1] - o.min[1] < 1e-9 || o.max[2] - o.min[2] < 1e-9) continue;
      const std::vector<P2> r = {{o.min[0], o.min[1]}, {o.max[0], o.min[1]}, {o.max[0], o.max[1]}, {o.min[0], o.max[1]}};
      add_prism(m, r, o.min[2], o.max[2], new_solid(o.id, mat));
    } else {
      if (o.radius <= 0) continue;
      std::vector<P2> c;
      const double r = o.radius * area_scale;
      for (int i = 0; i < sides; ++i) {
        const double a = 2 * kPi * i / sides;
        c.push_back({o.center.x + r * std::cos(a), o.center.y + r * std::sin(a)});
      }
      add_prism(m, c, o.z0, o.z1, new_solid(o.id, mat));
    }
  }
  return "";
}

// ---------------------------------------------------------------------------------------------

// Bullet's tree collapsed to four boxes per node (WideBvh below), for trace()'s walk.
constexpr int kWideStack = 256;  // the walk's stack of nodes to visit
struct WideNode {
  // per bound, the four children's boxes relative to WideBvh::origin, padded and rounded outwards;
  // a slot past the node's children has an empty box (lo +inf, hi -inf) that no segment enters
  alignas(16) float bound[6][4];  // lo x, y, z, then hi x, y, z
  std::int32_t child[4];  // >= 0: a node; < 0: the leaf of triangle ~child
};

struct WideBvh {
  std::vector<WideNode> nodes;  // the root first; empty: not built (trace() walks Bullet's tree)
  double origin[3] = {0, 0, 0};  // the centre of the mesh's box
  double pad_m = 0;
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};  // the mesh's box relative to the origin, padded
  int depth = 0;  // nodes on the longest root-to-leaf path
  // per triangle, its three corners as the face test takes them (the vertex array's floats): one
  // read per leaf instead of three indices and three vertices
  std::vector<std::array<btScalar, 9>> corners;
};

struct PlantModel::Bullet {
  std::vector<btScalar> vertices;  // x, y, z per vertex
  std::vector<int> indices;        // 3 per triangle
  std::unique_ptr<btTriangleIndexVertexArray> arrays;
  CachedBvh cached;  // a tree read from the cache lives in its buffer (destroyed after the shape)
  std::unique_ptr<btBvhTriangleMeshShape> shape;
  WideBvh wide;
};

namespace {

// Bullet's quantized tree (a binary tree in depth-first order: an inner node's left child follows
// it, its right child follows the left's subtree, of getEscapeIndex() nodes) collapsed to four
// children per node: each node takes its two children and opens the widest of them until it has
// four. The boxes are the exact float
// bounds of the triangles under each child (tighter than the quantized ones), relative to the
// mesh's centre, padded by 1 mm plus 1e-6 of the mesh's largest coordinate, each triangle's by
// 3.1e-4 of its size more (the tolerance of Bullet's face test at the edges), rounded outwards.
// The walk takes the segment Bullet's face test sees (its ends in single precision), clipped in
// double precision to the mesh's padded box and relative to its centre: every coordinate the slab
// test meets is then within the mesh's box, where its single-precision rounding (about 1e-7 of the
// box's size) is far below the pad, as is the face test's own rounding (a few units in the last
// place of single-precision coordinates: 8e-7 of them, 0.1 m at 900 km, where the pad is 0.9 m).
// So every face the face test would report is in a leaf the walk visits: the same faces, whose
// crossings trace() sorts (PlantWalk.H02_FarFromTheOriginTheWideWalkSeesEveryFaceTouched).
// Not built (the quantized walk is used) for a tree deeper than the walk's stack, or of several
// mesh parts.
void build_wide_bvh(btQuantizedBvh& bvh, const std::vector<btScalar>& vx, const std::vector<int>& ix, WideBvh& out) {
  out = WideBvh{};
  const auto& q = bvh.getQuantizedNodeArray();
  const int n = q.size();
#if !defined(__SSE2__)
  return;  // the walk is written for SSE
#endif
  if (!bvh.isQuantized() || n == 0) return;
  auto size_of = [&](int i) { return q[i].isLeafNode() ? 1 : q[i].getEscapeIndex(); };
  // exact bounds per binary node, children before parents (they follow them in the array)
  std::vector<std::array<float, 6>> box(static_cast<std::size_t>(n));
  for (int i = n - 1; i >= 0; --i) {
    auto& b = box[static_cast<std::size_t>(i)];
    if (q[i].isLeafNode()) {
      if (q[i].getPartId() != 0) return;
      const int tri = q[i].getTriangleIndex();
      b = {INFINITY, INFINITY, INFINITY, -INFINITY, -INFINITY, -INFINITY};
      for (int k = 0; k < 3; ++k) {
        const btScalar* p = vx.data() + 3 * ix[3 * static_cast<std::size_t>(tri) + static_cast<std::size_t>(k)];
        for (int a = 0; a < 3; ++a) b[a] = std::min(b[a], p[a]), b[3 + a] = std::max(b[3 + a], p[a]);
      }
    } else {
      const int l = i + 1, r = i + 1 + size_of(i + 1);
      const auto &bl = box[static_cast<std::size_t>(l)], &br = box[static_cast<std::size_t>(r)];
      for (int a = 0; a < 3; ++a) b[a] = std::min(bl[a], br[a]), b[3 + a] = std::max(bl[3 + a], br[3 + a]);
    }
  }
  const auto& root = box[0];
  double extent = 0;  // the largest coordinate of the mesh, m
  for (int a = 0; a < 3; ++a) {
    out.origin[a] = (static_cast<double>(root[a]) + static_cast<double>(root[3 + a])) / 2;
    extent = std::max({extent, std::abs(static_cast<double>(root[a])), std::abs(static_cast<double>(root[3 + a]))});
  }
  out.pad_m = 1e-3 + 1e-6 * extent;
  // the padded boxes, relative to the origin: a leaf's triangle also grown by 3.1e-4 of its reach
  // from its centroid (Bullet's face test accepts points up to 1e-4 of the triangle's height over
  // an edge outside it: the triangle scaled by 1.0003 about its centroid), an inner node's the
  // union of its children's
  std::vector<std::array<double, 6>> padded(static_cast<std::size_t>(n));
  for (int i = n - 1; i >= 0; --i) {
    auto& b = padded[static_cast<std::size_t>(i)];
    if (q[i].isLeafNode()) {
      const int tri = q[i].getTriangleIndex();
      double v[3][3], c[3] = {0, 0, 0};
      for (int k = 0; k < 3; ++k)
        for (int a = 0; a < 3; ++a) {
          v[k][a] = static_cast<double>(vx[3 * static_cast<std::size_t>(ix[3 * static_cast<std::size_t>(tri) + static_cast<std::size_t>(k)]) +
                                           static_cast<std::size_t>(a)]) - out.origin[a];
          c[a] += v[k][a] / 3;
        }
      double reach = 0;
      for (int k = 0; k < 3; ++k)
        reach = std::max(reach, std::sqrt((v[k][0] - c[0]) * (v[k][0] - c[0]) + (v[k][1] - c[1]) * (v[k][1] - c[1]) +
                                          (v[k][2] - c[2]) * (v[k][2] - c[2])));
      const double grow = out.pad_m + 3.1e-4 * reach;
      const auto& e = box[static_cast<std::size_t>(i)];
      for (int a = 0; a < 3; ++a)
        b[a] = static_cast<double>(e[a]) - out.origin[a] - grow, b[3 + a] = static_cast<double>(e[3 + a]) - out.origin[a] + grow;
    } else {
      const auto &bl = padded[static_cast<std::size_t>(i + 1)], &br = padded[static_cast<std::size_t>(i + 1 + size_of(i + 1))];
      for (int a = 0; a < 3; ++a) b[a] = std::min(bl[a], br[a]), b[3 + a] = std::max(bl[3 + a], br[3 + a]);
    }
  }
  for (int a = 0; a < 3; ++a) out.lo[a] = padded[0][a], out.hi[a] = padded[0][3 + a];
  // a node's padded bound as a float, rounded outwards
  auto lower = [&](int i, int a) { return std::nextafter(static_cast<float>(padded[static_cast<std::size_t>(i)][a]), -INFINITY); };
  auto upper = [&](int i, int a) { return std::nextafter(static_cast<float>(padded[static_cast<std::size_t>(i)][3 + a]), INFINITY); };
  // the slots of inner binary node i: its two children, then, while fewer than four, the inner slot
  // with the largest box (surface area; the first on a tie) replaced by its own two children
  auto area = [&](int i) {
    const auto& b = box[static_cast<std::size_t>(i)];
    const double x = static_cast<double>(b[3]) - b[0], y = static_cast<double>(b[4]) - b[1], z = static_cast<double>(b[5]) - b[2];
    return x * y + y * z + z * x;
  };
  auto slots_of = [&](int i, int (&slot)[4]) {
    int k = 0;
    slot[k++] = i + 1;
    slot[k++] = i + 1 + size_of(i + 1);
    while (k < 4) {
      int widest = -1;
      for (int s = 0; s < k; ++s)
        if (!q[slot[s]].isLeafNode() && (widest < 0 || area(slot[s]) > area(slot[widest]))) widest = s;
      if (widest < 0) break;
      const int c = slot[widest];
      slot[widest] = c + 1;
      slot[k++] = c + 1 + size_of(c + 1);
    }
    return k;
  };
  out.corners.resize(ix.size() / 3);
  for (std::size_t t = 0; t < out.corners.size(); ++t)
    for (std::size_t k = 0; k < 3; ++k)
      for (std::size_t a = 0; a < 3; ++a) out.corners[t][3 * k + a] = vx[3 * static_cast<std::size_t>(ix[3 * t + k]) + a];
  struct Todo {
    int bin, wide, depth;
  };
  std::vector<Todo> todo;
  out.nodes.emplace_back();
  if (q[0].isLeafNode()) {  // a mesh of one triangle
    WideNode& w = out.nodes[0];
    for (int a = 0; a < 3; ++a)
      for (int s = 0; s < 4; ++s) w.bound[a][s] = INFINITY, w.bound[3 + a][s] = -INFINITY;
    for (int a = 0; a < 3; ++a) w.bound[a][0] = lower(0, a), w.bound[3 + a][0] = upper(0, a);
    w.child[0] = ~q[0].getTriangleIndex();
    w.child[1] = w.child[2] = w.child[3] = 0;
    out.depth = 1;
    return;
  }
  todo.push_back({0, 0, 1});
  while (!todo.empty()) {
    const Todo t = todo.back();
    todo.pop_back();
    out.depth = std::max(out.depth, t.depth);
    int slot[4];
    const int k = slots_of(t.bin, slot);
    WideNode w;
    for (int s = 0; s < 4; ++s) {
      w.child[s] = 0;
      for (int a = 0; a < 3; ++a) w.bound[a][s] = INFINITY, w.bound[3 + a][s] = -INFINITY;
      if (s >= k) continue;
      for (int a = 0; a < 3; ++a) w.bound[a][s] = lower(slot[s], a), w.bound[3 + a][s] = upper(slot[s], a);
      if (q[slot[s]].isLeafNode()) {
        if (q[slot[s]].getPartId() != 0) {
          out = WideBvh{};
          return;
        }
        w.child[s] = ~q[slot[s]].getTriangleIndex();
      } else {
        w.child[s] = 0;  // its node is made below
      }
    }
    // inner slots get their nodes now, in order, so that the indices above hold
    const auto at = static_cast<std::size_t>(t.wide);
    out.nodes[at] = w;
    for (int s = 0; s < k; ++s) {
      if (q[slot[s]].isLeafNode()) continue;
      out.nodes[at].child[s] = static_cast<std::int32_t>(out.nodes.size());
      todo.push_back({slot[s], static_cast<int>(out.nodes.size()), t.depth + 1});
      out.nodes.emplace_back();
    }
  }
  if (out.depth > kWideStack / 3) out = WideBvh{};  // (at most three entries pushed per level)
}

}  // namespace

PlantModel::~PlantModel() = default;

std::unique_ptr<PlantModel> PlantModel::build(const Site& site, std::string& error, const PlantOptions& opt) {
  std::unique_ptr<PlantModel> pm(new PlantModel());
  static std::atomic<std::uint64_t> models{0};
  pm->id_ = ++models;  // never 0: a thread's remembered faces name the model they belong to
  error = build_plant_mesh(site, opt, pm->mesh_);
  if (!error.empty()) return nullptr;
  pm->materials_ = plant_material_names(site);
  pm->sheet_m_ = opt.open_mesh_sheet_m;
  const PlantMesh& m = pm->mesh_;
  // the triangles' planes and the solids' prisms, and (below) Bullet's tree: independent of each
  // other, so for a large plant made side by side (the same data either way)
  const auto derive = [&pm, &m] {
    pm->planes_.reserve(m.triangles.size());
    for (const auto& t : m.triangles) {
      const auto& a = m.vertices[static_cast<std::size_t>(t[0])];
      const auto& b = m.vertices[static_cast<std::size_t>(t[1])];
      const auto& c = m.vertices[static_cast<std::size_t>(t[2])];
      const double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
      double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
      const double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
      if (len > 0)
        for (double& x : n) x /= len;
      pm->planes_.push_back({n[0], n[1], n[2], n[0] * a[0] + n[1] * a[1] + n[2] * a[2]});
    }
    // each solid as a prism: the plan-view convex hull of its vertices (monotone chain), its z range
    pm->shapes_.resize(m.solids.size());
    {
      std::vector<std::vector<P2>> pts(m.solids.size());
      std::vector<char> seen(m.solids.size(), 0), vertex_seen(m.vertices.size(), 0);
      for (std::size_t t = 0; t < m.triangles.size(); ++t) {
        const std::size_t s = static_cast<std::size_t>(m.triangle_solid[t]);
        SolidShape& sh = pm->shapes_[s];
        for (int v : m.triangles[t]) {
          if (vertex_seen[static_cast<std::size_t>(v)]) continue;  // each vertex once (a model's are shared)
          vertex_seen[static_cast<std::size_t>(v)] = 1;
          const auto& q = m.vertices[static_cast<std::size_t>(v)];
          pts[s].push_back({q[0], q[1]});
          if (!seen[s]) sh.z0 = sh.z1 = q[2], seen[s] = 1;
          sh.z0 = std::min(sh.z0, q[2]);
          sh.z1 = std::max(sh.z1, q[2]);
        }
      }
      for (std::size_t s = 0; s < m.solids.size(); ++s) {
        pm->shapes_[s].material = m.solids[s].material;
        std::vector<P2>& p = pts[s];
        drop_interior_points(p);  // cannot be on the hull: the same hull, a shorter sort
        std::sort(p.begin(), p.end());
        p.erase(std::unique(p.begin(), p.end()), p.end());
        if (p.size() < 2) continue;
        // a vertical sheet (e.g. an open model's plate) has no area in plan: a rectangle of the
        // sheet's thickness around its extreme points, so that paths can go around its edges
        const auto sheet = [&](P2 a, P2 b) {
          const double dx = b[0] - a[0], dy = b[1] - a[1], len = std::hypot(dx, dy), w = pm->sheet_m_ / 2;
          const P2 n = {-dy / len * w, dx / len * w};
          pm->shapes_[s].hull = {{a[0] - n[0], a[1] - n[1]}, {b[0] - n[0], b[1] - n[1]}, {b[0] + n[0], b[1] + n[1]}, {a[0] + n[0], a[1] + n[1]}};
        };
        if (p.size() == 2) {
          if (pm->sheet_m_ > 0) sheet(p.front(), p.back());
          continue;
        }
        std::vector<P2> h(2 * p.size() + 1);
        std::size_t k = 0;
        for (std::size_t i = 0; i < p.size(); ++i) {
          while (k >= 2 && cross2(h[k - 2], h[k - 1], p[i]) <= 1e-12) --k;
          h[k++] = p[i];
        }
        for (std::size_t i = p.size() - 1, lo = k + 1; i-- > 0;) {
          while (k >= lo && cross2(h[k - 2], h[k - 1], p[i]) <= 1e-12) --k;
          h[k++] = p[i];
        }
        if (k > 1) --k;
        h.resize(k);
        if (k < 3) {
          if (pm->sheet_m_ > 0) sheet(p.front(), p.back());  // every vertex on one vertical plane
          continue;
        }
        pm->shapes_[s].hull = std::move(h);
        pm->shapes_[s].exact = m.solids[s].prism && !m.solids[s].open;
      }
    }
  };
  std::future<void> derived;
  if (m.triangles.size() >= kParallelBuildTriangles) derived = std::async(std::launch::async, derive);
  else derive();
  struct Join {
    std::future<void>& f;
    ~Join() {
      if (f.valid()) f.wait();
    }
  } join{derived};
  if (m.triangles.empty()) return pm;  // nothing to hit: every path is clear

  auto bt = std::make_unique<Bullet>();
  bt->vertices.reserve(m.vertices.size() * 3);
  for (const auto& v : m.vertices)
    for (double x : v) bt->vertices.push_back(static_cast<btScalar>(x));
  bt->indices.reserve(m.triangles.size() * 3);
  for (const auto& t : m.triangles) bt->indices.insert(bt->indices.end(), t.begin(), t.end());
  bt->arrays = std::make_unique<btTriangleIndexVertexArray>(
      static_cast<int>(m.triangles.size()), bt->indices.data(), static_cast<int>(3 * sizeof(int)),
      static_cast<int>(m.vertices.size()), bt->vertices.data(), static_cast<int>(3 * sizeof(btScalar)));
  // the mesh's box, as btTriangleMeshShape would find it (the extreme vertices of the triangles,
  // no margin) in one pass instead of six walks over every triangle; the BVH's quantization is
  // taken from it, so it must be, and is, the same floats
  {
    btVector3 lo(BT_LARGE_FLOAT, BT_LARGE_FLOAT, BT_LARGE_FLOAT), hi(-BT_LARGE_FLOAT, -BT_LARGE_FLOAT, -BT_LARGE_FLOAT);
    for (int v : bt->indices) {
      const btScalar* q = &bt->vertices[3 * static_cast<std::size_t>(v)];
      const btVector3 p(q[0], q[1], q[2]);
      lo.setMin(p);
      hi.setMax(p);
    }
    bt->arrays->setPremadeAabb(lo, hi);
  }
  const std::size_t n_tris = m.triangles.size();
  const bool use_cache = !opt.bvh_cache.dir.empty() && n_tris >= opt.bvh_cache.min_triangles;
  std::string key;
  if (use_cache) {
    key = bvh_cache_key(bt->vertices.data(), m.vertices.size(), bt->indices.data(), n_tris);
    if (!key.empty()) bt->cached = bvh_cache_load(opt.bvh_cache, key, n_tris);  // "": OpenSSL failed
  }
  if (bt->cached.bvh) {
    bt->shape = std::make_unique<btBvhTriangleMeshShape>(bt->arrays.get(), /*useQuantizedAabbCompression=*/true,
                                                         /*buildBvh=*/false);
    // Bullet restores a serialized tree as a btQuantizedBvh; its shape takes it as the derived
    // btOptimizedBvh, which adds no data (Bullet's own examples pass it so). Not owned by the shape.
    bt->shape->setOptimizedBvh(reinterpret_cast<btOptimizedBvh*>(bt->cached.bvh));
    pm->bvh_from_cache_ = true;
  } else {
    bt->shape = std::make_unique<btBvhTriangleMeshShape>(bt->arrays.get(), /*useQuantizedAabbCompression=*/true);
    if (use_cache && !key.empty()) bvh_cache_store(opt.bvh_cache, key, *bt->shape->getOptimizedBvh());
  }
  build_wide_bvh(*bt->shape->getOptimizedBvh(), bt->vertices, bt->indices, bt->wide);
  pm->bt_ = std::move(bt);
  if (derived.valid()) derived.get();  // its exception, if any, is ours
  return pm;
}

int PlantModel::material_index(const std::string& name) const {
  const auto it = std::find(materials_.begin(), materials_.end(), name);
  return it == materials_.end() ? -1 : static_cast<int>(it - materials_.begin());
}

namespace {

btVector3 bt3(const Vec3& v) {
  return btVector3(static_cast<btScalar>(v.x), static_cast<btScalar>(v.y), static_cast<btScalar>(v.z));
}

// Collects every triangle the ray hits; never shortens the ray, so all faces are reported.
struct CollectAll final : btTriangleRaycastCallback {
  std::vector<int>& tris;
  CollectAll(const btVector3& from, const btVector3& to, std::vector<int>& out)
      : btTriangleRaycastCallback(from, to, kF_None), tris(out) {}
  btScalar reportHit(const btVector3&, btScalar, int, int triangle) override {
    tris.push_back(triangle);
    return m_hitFraction;
  }
};

// Stops at the first face of a blocking solid strictly between the ends.
template <class Blocks>
struct FirstBlocker final : btTriangleRaycastCallback {
  const Blocks& blocks;
  bool blocked = false;
  FirstBlocker(const btVector3& from, const btVector3& to, const Blocks& b)
      : btTriangleRaycastCallback(from, to, kF_None), blocks(b) {}
  btScalar reportHit(const btVector3&, btScalar, int, int triangle) override {
    if (!blocks(triangle)) return m_hitFraction;
    blocked = true;
    return 0;  // no later triangle passes the distance test
  }
};

// The quantized tree's bounds, which btQuantizedBvh keeps protected (a member pointer taken
// through a derived class reads them from any tree).
struct BvhFields : btQuantizedBvh {
  static constexpr btVector3 btQuantizedBvh::*kMin = &BvhFields::m_bvhAabbMin;
  static constexpr btVector3 btQuantizedBvh::*kQuantization = &BvhFields::m_bvhQuantization;
};

// Bullet's stackless walk of a quantized tree along the segment o + t d (0 <= t <= 1), calling
// leaf(triangle, part) for every leaf whose box, padded by kNodePad_m, the segment overlaps, in
// the tree's array order (Bullet's order); leaf returns true to stop the walk, and then so does
// walk_segment. Every leaf Bullet's own walk (performRaycast) reports a hit in is visited: a face
// the segment hits lies in its leaf's box (Bullet quantizes boxes outward), and the slab test
// below differs from exact arithmetic by far less than the 1 mm pad; so the faces hit, and their
// order, are Bullet's (tests/sim/plant_walk_test.cpp checks it against performRaycast). Faster
// than Bullet's walk (issues 15 and 20): the segment's box is tested in quantized integers first,
// and a node's slab test is one multiply-add per bound, with the quantization and the segment's
// reciprocal folded into per-segment constants; clear() also stops at the first blocking face.
template <class Leaf>
bool walk_segment(btQuantizedBvh& bvh, const double o[3], const double d[3], Leaf&& leaf) {
  constexpr double kNodePad_m = 1e-3;
  const auto& nodes = bvh.getQuantizedNodeArray();
  const btVector3& bmin = bvh.*BvhFields::kMin;
  const btVector3& quant = bvh.*BvhFields::kQuantization;
  // the segment's padded box, quantized outward: an integer test rejects most nodes first
  unsigned short qlo[3], qhi[3];
  {
    const auto pad = [&](double x, double sign) { return static_cast<btScalar>(x + sign * kNodePad_m); };
    const double e[3] = {o[0] + d[0], o[1] + d[1], o[2] + d[2]};
    bvh.quantizeWithClamp(qlo, btVector3(pad(std::min(o[0], e[0]), -1), pad(std::min(o[1], e[1]), -1), pad(std::min(o[2], e[2]), -1)), 0);
    bvh.quantizeWithClamp(qhi, btVector3(pad(std::max(o[0], e[0]), 1), pad(std::max(o[1], e[1]), 1), pad(std::max(o[2], e[2]), 1)), 1);
  }
  // per axis, a bound q (a quantized coordinate) is at x = q / quantization + min; the segment
  // crosses the padded bound x -+ pad at t = q * s + c: it enters through the min bound and leaves
  // through the max one, or the other way where it runs backwards (`back`: which of the node's two
  // bounds is the entry). An axis the segment does not move along gives no interval (s = 0, the
  // whole line): there the integer test above, on the segment's padded box quantized outward,
  // already keeps every node that can hold a hit.
  double s[3], c_in[3], c_out[3];
  bool back[3];
  for (int k = 0; k < 3; ++k) {
    back[k] = d[k] < 0;
    if (std::abs(d[k]) < 1e-12) {
      s[k] = 0;
      c_in[k] = -std::numeric_limits<double>::infinity();
      c_out[k] = std::numeric_limits<double>::infinity();
      continue;
    }
    const double inv = 1.0 / d[k], base = static_cast<double>(bmin[k]);
    s[k] = inv / static_cast<double>(quant[k]);
    const double c_lo = (base - kNodePad_m - o[k]) * inv, c_hi = (base + kNodePad_m - o[k]) * inv;
    c_in[k] = back[k] ? c_hi : c_lo;
    c_out[k] = back[k] ? c_lo : c_hi;
  }
  const auto overlaps = [&](const btQuantizedBvhNode& n) {
    if (!testQuantizedAabbAgainstQuantizedAabb(qlo, qhi, n.m_quantizedAabbMin, n.m_quantizedAabbMax)) return false;
    double t0 = 0, t1 = 1;
    for (int k = 0; k < 3; ++k) {
      const double qmin = n.m_quantizedAabbMin[k], qmax = n.m_quantizedAabbMax[k];
      t0 = std::max(t0, (back[k] ? qmax : qmin) * s[k] + c_in[k]);
      t1 = std::min(t1, (back[k] ? qmin : qmax) * s[k] + c_out[k]);
      if (t0 > t1) return false;
    }
    return true;
  };
  const btQuantizedBvhNode* node = &nodes[0];
  const int end_index = node->isLeafNode() ? 1 : node->getEscapeIndex();
  for (int i = 0; i < end_index;) {
    const bool overlap = overlaps(*node), is_leaf = node->isLeafNode();
    if (is_leaf && overlap && leaf(node->getTriangleIndex(), node->getPartId())) return true;
    if (overlap || is_leaf) {
      ++node;
      ++i;
    } else {
      const int skip = node->getEscapeIndex();
      node += skip;
      i += skip;
    }
  }
  return false;
}

// The segment o + t d (0 <= t <= 1, o relative to the tree's origin) through the four-wide tree:
// leaf(triangle) for every leaf whose padded box the segment enters, four boxes per slab test in
// single precision (the pad covers its rounding: build_wide_bvh); true when leaf stops the walk.
// The order of the leaves is the tree's, not Bullet's: trace() sorts what the faces give.
#if defined(__SSE2__)
template <class Leaf>
bool walk_wide(const WideBvh& tree, const double o[3], const double d[3], Leaf&& leaf) {
  __m128 org[3], inv[3];
  int in[3], out[3];  // per axis: the bound the segment enters a box by, and leaves it by
  for (int a = 0; a < 3; ++a) {
    // an axis the segment does not move along: a tiny step instead, so that no 0 x infinity
    const double step = std::abs(d[a]) < 1e-12 ? (d[a] < 0 ? -1e-12 : 1e-12) : d[a];
    org[a] = _mm_set1_ps(static_cast<float>(o[a]));
    inv[a] = _mm_set1_ps(static_cast<float>(1.0 / step));
    in[a] = step < 0 ? 3 + a : a;  // backwards: in by the upper bound
    out[a] = step < 0 ? a : 3 + a;
  }
  const __m128 zero = _mm_setzero_ps(), one = _mm_set1_ps(1.0f);
  int stack[kWideStack];
  int top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const WideNode& n = tree.nodes[static_cast<std::size_t>(stack[--top])];
    __m128 t0 = zero, t1 = one;
    for (int a = 0; a < 3; ++a) {
      t0 = _mm_max_ps(t0, _mm_mul_ps(_mm_sub_ps(_mm_load_ps(n.bound[in[a]]), org[a]), inv[a]));
      t1 = _mm_min_ps(t1, _mm_mul_ps(_mm_sub_ps(_mm_load_ps(n.bound[out[a]]), org[a]), inv[a]));
    }
    for (int hit = _mm_movemask_ps(_mm_cmple_ps(t0, t1)); hit != 0; hit &= hit - 1) {
      const std::int32_t c = n.child[__builtin_ctz(static_cast<unsigned>(hit))];
      if (c < 0) {
        if (leaf(~c)) return true;
      } else {
        stack[top++] = c;
      }
    }
  }
  return false;
}

// The wide walk of the segment Bullet's face test sees (`from`, `to`: its single-precision ends),
// relative to the tree's origin and clipped to the mesh's padded box (nothing visited when it
// misses the box): leaf(triangle, its corners) as walk_wide calls it; true when leaf stopped it.
template <class Leaf>
bool walk_wide_segment(const WideBvh& tree, const btVector3& from, const btVector3& to, Leaf&& leaf) {
  double o[3], step[3], t0 = 0, t1 = 1;
  for (int k = 0; k < 3; ++k) {
    o[k] = static_cast<double>(from[k]) - tree.origin[k];
    step[k] = static_cast<double>(to[k]) - static_cast<double>(from[k]);
    if (step[k] == 0) {
      if (o[k] < tree.lo[k] || o[k] > tree.hi[k]) return false;
      continue;
    }
    const double u = (tree.lo[k] - o[k]) / step[k], v = (tree.hi[k] - o[k]) / step[k];
    t0 = std::max(t0, std::min(u, v));
    t1 = std::min(t1, std::max(u, v));
  }
  if (!(t0 <= t1)) return false;
  const double start[3] = {o[0] + t0 * step[0], o[1] + t0 * step[1], o[2] + t0 * step[2]};
  const double along[3] = {(t1 - t0) * step[0], (t1 - t0) * step[1], (t1 - t0) * step[2]};
  return walk_wide(tree, start, along, [&](int tri) {
    const btScalar* p = tree.corners[static_cast<std::size_t>(tri)].data();
    btVector3 v[3] = {{p[0], p[1], p[2]}, {p[3], p[4], p[5]}, {p[6], p[7], p[8]}};
    return leaf(tri, v);
  });
}
#endif

// Whether the wide walk serves this segment: built, and finite ends.
bool wide_walk_for(const WideBvh& tree, const Vec3& a, const Vec3& b) {
  return !tree.nodes.empty() && std::isfinite(a.x) && std::isfinite(a.y) && std::isfinite(a.z) && std::isfinite(b.x) &&
         std::isfinite(b.y) && std::isfinite(b.z);
}

struct Hit {
  int solid;
  double t;  // 0..1 along the segment
  bool entry;
};

}  // namespace

void PlantModel::trace(const Vec3& a, const Vec3& b, std::vector<Crossing>& out) const {
  trace(a, b, out, Walk::wide);
}

bool PlantModel::clear(const Vec3& a, const Vec3& b, const std::vector<char>& blocks) const {
  return clear(a, b, blocks, Walk::wide);
}

void PlantModel::trace(const Vec3& a, const Vec3& b, std::vector<Crossing>& out, Walk walk) const {
  out.clear();
  if (!bt_) return;
  const double d[3] = {b.x - a.x, b.y - a.y, b.z - a.z};
  const double len = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  if (len <= 0) return;
  thread_local std::vector<int> tris;
  thread_local std::vector<Hit> hits;
  tris.clear();
  hits.clear();
  // one callback per thread, its segment set per call (it never shortens it: m_hitFraction stays 1)
  thread_local CollectAll cb(btVector3(0, 0, 0), btVector3(0, 0, 0), tris);
  cb.m_from = bt3(a);
  cb.m_to = bt3(b);
  cb.m_hitFraction = 1;
  btQuantizedBvh* bvh = bt_->shape->getOptimizedBvh();
  const WideBvh& wide = bt_->wide;
  if (walk == Walk::every) {
    const btScalar* vx = bt_->vertices.data();
    const int* ix = bt_->indices.data();
    for (int tri = 0, n = static_cast<int>(mesh_.triangles.size()); tri < n; ++tri) {
      btVector3 v[3];
      for (int k = 0; k < 3; ++k) {
        const btScalar* p = vx + 3 * ix[3 * tri + k];
        v[k].setValue(p[0], p[1], p[2]);
      }
      cb.processTriangle(v, 0, tri);
    }
  } else if (!bvh || !bvh->isQuantized() || bvh->getQuantizedNodeArray().size() == 0 || walk == Walk::bullet) {
    bt_->shape->performRaycast(&cb, cb.m_from, cb.m_to);
#if defined(__SSE2__)
  } else if (walk == Walk::wide && wide_walk_for(wide, a, b)) {
    walk_wide_segment(wide, cb.m_from, cb.m_to, [&](int tri, btVector3* v) {
      cb.processTriangle(v, 0, tri);
      return false;
    });
#endif
  } else {
    const double o[3] = {a.x, a.y, a.z};
    const btScalar* vx = bt_->vertices.data();
    const int* ix = bt_->indices.data();
    walk_segment(*bvh, o, d, [&](int tri, int part) {
      btVector3 v[3];
      for (int k = 0; k < 3; ++k) {
        const btScalar* p = vx + 3 * ix[3 * tri + k];
        v[k].setValue(p[0], p[1], p[2]);
      }
      cb.processTriangle(v, part, tri);
      return false;
    });
  }
  for (int tri : tris) {
    const auto& p = planes_[static_cast<std::size_t>(tri)];
    const double den = p[0] * d[0] + p[1] * d[1] + p[2] * d[2];
    if (std::abs(den) < 1e-12 * len) continue;  // grazing a face: neither in nor out
    const double t = std::clamp((p[3] - (p[0] * a.x + p[1] * a.y + p[2] * a.z)) / den, 0.0, 1.0);
    hits.push_back({mesh_.triangle_solid[static_cast<std::size_t>(tri)], t, den < 0});
  }
  // per solid, in path order; entries before exits at one spot
  std::sort(hits.begin(), hits.end(), [](const Hit& x, const Hit& y) {
    if (x.solid != y.solid) return x.solid < y.solid;
    if (x.t != y.t) return x.t < y.t;
    return x.entry && !y.entry;
  });
  struct Span {
    double t0, t1;
    int solid;
  };
  thread_local std::vector<Span> spans;
  spans.clear();
  const double same = kSameHit_m / len;
  for (std::size_t i = 0; i < hits.size();) {
    const int solid = hits[i].solid;
    if (mesh_.solids[static_cast<std::size_t>(solid)].open) {
      // surfaces without an inside: each one crossed is a sheet (two triangles' shared edge: one)
      double last_t = -1;
      for (; i < hits.size() && hits[i].solid == solid; ++i) {
        if (last_t >= 0 && hits[i].t - last_t <= same) continue;
        last_t = hits[i].t;
        spans.push_back({hits[i].t, hits[i].t + sheet_m_ / len, solid});
      }
      continue;
    }
    bool inside = false, first = true;
    double t_in = 0, last_t = -1;
    bool last_entry = false;
    for (; i < hits.size() && hits[i].solid == solid; ++i) {
      const Hit& h = hits[i];
      if (!first && h.entry == last_entry && h.t - last_t <= same) continue;  // the same face crossing twice
      if (h.entry) {
        if (!inside) inside = true, t_in = h.t;
      } else if (inside) {
        spans.push_back({t_in, h.t, solid});
        inside = false;
      } else if (first) {
        spans.push_back({0, h.t, solid});  // the segment starts inside this solid
      }
      first = false;
      last_t = h.t;
      last_entry = h.entry;
    }
    if (inside) spans.push_back({t_in, 1, solid});  // ends inside
  }
  std::sort(spans.begin(), spans.end(), [](const Span& x, const Span& y) {
    return x.t0 != y.t0 ? x.t0 < y.t0 : x.solid < y.solid;
  });
  for (const Span& s : spans) {
    const double inside_m = (s.t1 - s.t0) * len;
    if (inside_m <= kSameHit_m) continue;  // touched an edge
    out.push_back({mesh_.solids[static_cast<std::size_t>(s.solid)].material, inside_m, s.solid});
  }
}

bool PlantModel::clear(const Vec3& a, const Vec3& b, const std::vector<char>& blocks, Walk walk) const {
  if (!bt_) return true;
  const double d[3] = {b.x - a.x, b.y - a.y, b.z - a.z};
  const double len = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  if (len <= 0) return true;
  const double end = kSameHit_m / len;
  const auto test = [&](int tri) {
    const int mat = mesh_.solids[static_cast<std::size_t>(mesh_.triangle_solid[static_cast<std::size_t>(tri)])].material;
    if (!blocks[static_cast<std::size_t>(mat)]) return false;
    const auto& p = planes_[static_cast<std::size_t>(tri)];
    const double den = p[0] * d[0] + p[1] * d[1] + p[2] * d[2];
    if (std::abs(den) < 1e-12 * len) return false;
    const double t = (p[3] - (p[0] * a.x + p[1] * a.y + p[2] * a.z)) / den;
    return t > end && t < 1 - end;
  };
  FirstBlocker<decltype(test)> cb(bt3(a), bt3(b), test);
  btQuantizedBvh* bvh = bt_->shape->getOptimizedBvh();
  if (!bvh || !bvh->isQuantized() || bvh->getQuantizedNodeArray().size() == 0 || walk == Walk::bullet) {
    bt_->shape->performRaycast(&cb, cb.m_from, cb.m_to);
    return !cb.blocked;
  }
  const double o[3] = {a.x, a.y, a.z};
  const btScalar* vx = bt_->vertices.data();
  const int* ix = bt_->indices.data();
  const auto hits = [&](int tri, int part) {
    btVector3 v[3];
    for (int k = 0; k < 3; ++k) {
      const btScalar* p = vx + 3 * ix[3 * tri + k];
      v[k].setValue(p[0], p[1], p[2]);
    }
    cb.processTriangle(v, part, tri);  // a face that does not block leaves cb as it was
    return cb.blocked;
  };
  if (walk == Walk::every) {
    for (int tri = 0, n = static_cast<int>(mesh_.triangles.size()); tri < n; ++tri)
      if (hits(tri, 0)) return false;
    return true;
  }
  // The last blocking face seen towards each end point (per thread), tried first: neighbouring
  // samples seen from one anchor (the segment's end) or one camera (its start) are mostly blocked
  // by the same face (a column, a tank), and the answer (is any face in the way) does not depend
  // on which is found first. One table per end, 64 slots each, by the end point's bits.
  struct Shadow {
    std::uint64_t model = 0;
    double x = 0, y = 0, z = 0;
    int tri = -1;
  };
  thread_local Shadow shadows[2][64];
  const auto slot = [&](int which, const Vec3& p) -> Shadow& {
    std::uint64_t bits[3];
    std::memcpy(bits, &p, sizeof bits);
    return shadows[which][((bits[0] * 0x9E3779B97F4A7C15ull) ^ (bits[1] * 0xC2B2AE3D27D4EB4Full) ^ bits[2]) >> 58];
  };
  Shadow& at_b = slot(1, b);
  Shadow& at_a = slot(0, a);
  const int n_tris = static_cast<int>(mesh_.triangles.size());
  const auto remembered = [&](const Shadow& sh, const Vec3& p) {
    return sh.model == id_ && sh.x == p.x && sh.y == p.y && sh.z == p.z && sh.tri >= 0 && sh.tri < n_tris;
  };
  if (remembered(at_b, b) && hits(at_b.tri, 0)) return false;
  if (remembered(at_a, a) && at_a.tri != at_b.tri && hits(at_a.tri, 0)) return false;
  int blocker = -1;
  bool blocked = false;
#if defined(__SSE2__)
  if (walk == Walk::wide && wide_walk_for(bt_->wide, a, b)) {
    blocked = walk_wide_segment(bt_->wide, cb.m_from, cb.m_to, [&](int tri, btVector3* v) {
      cb.processTriangle(v, 0, tri);
      if (!cb.blocked) return false;
      blocker = tri;
      return true;
    });
  } else
#endif
  {
    blocked = walk_segment(*bvh, o, d, [&](int tri, int part) {
      if (!hits(tri, part)) return false;
      blocker = tri;
      return true;
    });
  }
  if (blocked) {
    at_b = {id_, b.x, b.y, b.z, blocker};
    at_a = {id_, a.x, a.y, a.z, blocker};
  }
  return !blocked;
}

void PlantModel::trace_batch(std::span<const std::pair<Vec3, Vec3>> segments, std::vector<std::vector<Crossing>>& out,
                             int threads) const {
  const std::size_t n = segments.size();
  out.resize(n);
  const std::size_t workers = std::clamp<std::size_t>(threads < 1 ? 1 : static_cast<std::size_t>(threads), 1, std::max<std::size_t>(n, 1));
  auto work = [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) trace(segments[i].first, segments[i].second, out[i]);
  };
  if (workers == 1) {
    work(0, n);
    return;
  }
  std::vector<std::thread> pool;
  for (std::size_t w = 0; w < workers; ++w) pool.emplace_back(work, n * w / workers, n * (w + 1) / workers);
  for (std::thread& t : pool) t.join();
}

}  // namespace planttwin
